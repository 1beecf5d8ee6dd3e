"""Twilio's REST API, for what the hotline asks of it: SMS, calls to hospital desks, and
deleting recordings (personal-data retention)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

log = logging.getLogger(__name__)


class SendFailed(Exception):
    """Twilio did not accept the message (or call), so nothing was sent (safe to try again)."""


class DeleteFailed(Exception):
    """Twilio did not delete the recording (it is still there: safe to try again)."""


@dataclass
class TwilioAccount:
    """The account a REST call goes out under; without one (demo mode) nothing reaches Twilio."""

    account_sid: str | None
    auth_token: str | None
    http_client: TwilioHttpClient | None = field(default=None, kw_only=True)  # tests record requests

    @property
    def demo(self) -> bool:
        return not (self.account_sid and self.auth_token)

    def client(self) -> Client:
        return Client(self.account_sid, self.auth_token, http_client=self.http_client)


@contextmanager
def failing_as(failure: type[Exception]) -> Iterator[None]:
    """Twilio's refusals, and a Twilio that cannot be reached, raised as ``failure``."""
    from twilio.base.exceptions import TwilioException

    try:
        yield
    except TwilioException as exc:
        raise failure(str(exc)) from exc
    except OSError as exc:  # connection refused, DNS, timeout
        raise failure(f"Twilio unreachable: {exc}") from exc


@dataclass
class SmsSender(TwilioAccount):
    """Sends SMS through Twilio; in demo mode (no account) only logs them."""

    from_number: str
    status_callback: str | None = None

    def send(self, to: str, body: str) -> str:
        """Send one SMS; returns Twilio's MessageSid, or raises SendFailed."""
        if self.demo:
            sid = "SMdemo" + secrets.token_hex(13)
            log.info("demo SMS to %s (%s): %s", to, sid, body)
            return sid
        options = {"status_callback": self.status_callback} if self.status_callback else {}
        with failing_as(SendFailed):
            message = self.client().messages.create(to=to, from_=self.from_number, body=body, **options)
        return message.sid


# Call progress a placed call reports to its status callback (Twilio sends only
# "completed" unless asked): enough to tell "rang, nobody answered" from "never rang".
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


@dataclass
class CallPlacer(TwilioAccount):
    """Places outbound calls through Twilio (a hospital's emergency desk); in demo mode (no
    account) only logs them."""

    from_number: str
    ring_seconds: int = 30

    def place(self, to: str, url: str, status_callback: str) -> str:
        """Ring ``to``; when answered Twilio fetches ``url`` for TwiML. Returns the CallSid,
        or raises SendFailed (no call was made, safe to try again)."""
        if self.demo:
            sid = "CAdemo" + secrets.token_hex(13)
            log.info("demo call to %s (%s): answered, it would read %s", to, sid, url)
            return sid
        with failing_as(SendFailed):
            call = self.client().calls.create(to=to, from_=self.from_number, url=url, method="POST",
                                              status_callback=status_callback, status_callback_method="POST",
                                              status_callback_event=CALL_EVENTS, timeout=self.ring_seconds)
        return call.sid


class RecordingDeleter(TwilioAccount):
    """Deletes call recordings Twilio stores for the account; in demo mode there is nothing
    at Twilio to delete (the caller checks ``demo``)."""

    def delete(self, recording_sid: str) -> None:
        """Delete one recording; one Twilio no longer has counts as deleted. Raises DeleteFailed."""
        from twilio.base.exceptions import TwilioRestException

        with failing_as(DeleteFailed):
            try:
                self.client().recordings(recording_sid).delete()
            except TwilioRestException as exc:
                if exc.status != 404:  # 404: deleted already (a run that stopped before recording it)
                    raise
