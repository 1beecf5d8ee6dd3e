"""Twilio's REST API, for what the hotline sends out: SMS, and calls to hospital desks."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

log = logging.getLogger(__name__)


class SendFailed(Exception):
    """Twilio did not accept the message (or call), so nothing was sent (safe to try again)."""


@dataclass
class SmsSender:
    """Sends SMS through Twilio; in demo mode (no account) only logs them."""

    account_sid: str | None
    auth_token: str | None
    from_number: str
    status_callback: str | None = None
    http_client: TwilioHttpClient | None = None  # tests pass one that records requests

    @property
    def demo(self) -> bool:
        return not (self.account_sid and self.auth_token)

    def send(self, to: str, body: str) -> str:
        """Send one SMS; returns Twilio's MessageSid, or raises SendFailed."""
        if self.demo:
            sid = "SMdemo" + secrets.token_hex(13)
            log.info("demo SMS to %s (%s): %s", to, sid, body)
            return sid
        from twilio.base.exceptions import TwilioException

        client = Client(self.account_sid, self.auth_token, http_client=self.http_client)
        options = {"status_callback": self.status_callback} if self.status_callback else {}
        try:
            message = client.messages.create(to=to, from_=self.from_number, body=body, **options)
        except TwilioException as exc:
            raise SendFailed(str(exc)) from exc
        except OSError as exc:  # connection refused, DNS, timeout: not sent
            raise SendFailed(f"Twilio unreachable: {exc}") from exc
        return message.sid


# Call progress a placed call reports to its status callback (Twilio sends only
# "completed" unless asked): enough to tell "rang, nobody answered" from "never rang".
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


@dataclass
class CallPlacer:
    """Places outbound calls through Twilio (a hospital's emergency desk); in demo mode (no
    account) only logs them."""

    account_sid: str | None
    auth_token: str | None
    from_number: str
    http_client: TwilioHttpClient | None = None  # tests pass one that records requests
    ring_seconds: int = 30

    @property
    def demo(self) -> bool:
        return not (self.account_sid and self.auth_token)

    def place(self, to: str, url: str, status_callback: str) -> str:
        """Ring ``to``; when answered Twilio fetches ``url`` for TwiML. Returns the CallSid,
        or raises SendFailed (no call was made, safe to try again)."""
        if self.demo:
            sid = "CAdemo" + secrets.token_hex(13)
            log.info("demo call to %s (%s): answered, it would read %s", to, sid, url)
            return sid
        from twilio.base.exceptions import TwilioException

        client = Client(self.account_sid, self.auth_token, http_client=self.http_client)
        try:
            call = client.calls.create(to=to, from_=self.from_number, url=url, method="POST",
                                       status_callback=status_callback, status_callback_method="POST",
                                       status_callback_event=CALL_EVENTS, timeout=self.ring_seconds)
        except TwilioException as exc:
            raise SendFailed(str(exc)) from exc
        except OSError as exc:  # connection refused, DNS, timeout: not placed
            raise SendFailed(f"Twilio unreachable: {exc}") from exc
        return call.sid
