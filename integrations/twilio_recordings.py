"""Deleting call recordings that Twilio stores for the account (personal-data retention)."""

from __future__ import annotations

from dataclasses import dataclass

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client


class DeleteFailed(Exception):
    """Twilio did not delete the recording (it is still there: safe to try again)."""


@dataclass
class RecordingDeleter:
    """Deletes recordings through Twilio's REST API; without an account (demo) there is
    nothing at Twilio to delete."""

    account_sid: str | None
    auth_token: str | None
    http_client: TwilioHttpClient | None = None  # tests pass one that records requests

    @property
    def demo(self) -> bool:
        return not (self.account_sid and self.auth_token)

    def delete(self, recording_sid: str) -> None:
        """Delete one recording; one Twilio no longer has counts as deleted. Raises DeleteFailed."""
        from twilio.base.exceptions import TwilioException, TwilioRestException

        client = Client(self.account_sid, self.auth_token, http_client=self.http_client)
        try:
            client.recordings(recording_sid).delete()
        except TwilioRestException as exc:
            if exc.status != 404:  # 404: deleted already (a run that stopped before recording it)
                raise DeleteFailed(str(exc)) from exc
        except TwilioException as exc:
            raise DeleteFailed(str(exc)) from exc
        except OSError as exc:  # connection refused, DNS, timeout
            raise DeleteFailed(f"Twilio unreachable: {exc}") from exc
