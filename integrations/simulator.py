"""A call simulator for demo mode: properly signed Twilio webhooks, sent to the app itself.

It sends exactly what Twilio would (same parameters, same X-Twilio-Signature), so the
whole flow — ticket, IVR, queue, status — runs without a Twilio account.
"""

from __future__ import annotations

import secrets
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from twilio.request_validator import RequestValidator

Post = Callable[[str, dict[str, str]], tuple[int, str]]


@dataclass
class SimulatedCall:
    base_url: str
    auth_token: str
    line_number: str
    from_number: str
    sid: str = field(default_factory=lambda: "CA" + secrets.token_hex(16))
    account_sid: str = "AC" + "0" * 32

    def params(self, **extra: str) -> dict[str, str]:
        return {"CallSid": self.sid, "AccountSid": self.account_sid, "From": self.from_number,
                "To": self.line_number, "Direction": "inbound", "ApiVersion": "2010-04-01",
                "CallStatus": "in-progress", **extra}

    def sign(self, path: str, params: dict[str, str]) -> str:
        return RequestValidator(self.auth_token).compute_signature(self.base_url.rstrip("/") + path, params)


def http_post(sim: SimulatedCall) -> Post:
    """Send each webhook over HTTP to the running server, as Twilio does."""

    def post(path: str, params: dict[str, str]) -> tuple[int, str]:
        data = urllib.parse.urlencode(params).encode()
        target = sim.base_url.rstrip("/") + path
        if not target.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {target}")
        request = urllib.request.Request(target, data=data, method="POST",  # noqa: S310 - checked above
                                         headers={"X-Twilio-Signature": sim.sign(path, params)})
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - checked above
            return response.status, response.read().decode()

    return post


def run_call(sim: SimulatedCall, post: Post, *, digits: str | None = None,
             hang_up: bool = True) -> list[tuple[str, int]]:
    """Ring the hotline, answer the menu with ``digits``, and (optionally) hang up."""
    steps = [("/twilio/voice", sim.params(CallStatus="ringing"))]
    if digits is not None:
        steps.append(("/twilio/voice/gather", sim.params(Digits=digits)))
    if hang_up:
        steps.append(("/twilio/voice/status", sim.params(CallStatus="completed", CallDuration="42")))
    return [(path, post(path, params)[0]) for path, params in steps]
