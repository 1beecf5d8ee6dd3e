"""Rate limits on the doors anyone can knock at: signing in, the public tracking lookup, Open311.

One table (``RULES``) says which endpoint is limited, by what key and how; the figures are
settings (``RATELIMIT_*``, README "Settings"). Flask-Limiter counts, in Redis where
``REDIS_URL`` is set (so every process shares one count), in this process's memory otherwise.

What is counted is chosen so that people using the hotline as meant never meet a limit:
- sign-in counts *failed* attempts only, per address and per account name: a call centre
  behind one NAT address signs in all morning without trouble, while guessing one account's
  password from many addresses is slowed down as much as from one;
- the tracking lookup counts *misses* only (an unknown code): a citizen checking their own
  request is never refused, someone trying codes is;
- Open311 counts every request, per API key for a submission (a client app forwards many
  citizens from one key) and per address for reading.
The Twilio webhooks are never limited: they are signed, and a call must never be refused.

A breach answers 429 with ``Retry-After``, in each surface's own error format (JSON for the
API, the GeoReport error list for Open311, the page with a message for people). If Redis is
down, each process counts in memory until it is back (logged), and nothing else fails.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, request
from flask.wrappers import Response
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address


def _account_name() -> str:
    """The account a sign-in is for, as typed (case-folded): form or JSON body."""
    if request.is_json:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    else:
        name = request.form.get("username")
    # An empty key makes Flask-Limiter skip the limit: no name, nothing to guess.
    return f"account:{name.strip().casefold()[:150]}" if isinstance(name, str) and name.strip() else ""


def _api_key() -> str:
    """The Open311 client, by the key it sends (hashed: the key itself is never stored)."""
    from tickets.api_keys import hash_key

    key = request.values.get("api_key", "")
    return f"key:{hash_key(key)[:16]}" if key else f"addr:{get_remote_address()}"


def _failed_sign_in(response: Response) -> bool:
    return response.status_code == 401


def _miss(response: Response) -> bool:
    return response.status_code == 404


@dataclass(frozen=True)
class Rule:
    endpoint: str
    setting: str  # the app setting holding the limit, e.g. "10 per minute;100 per hour"
    key: Callable[[], str] = get_remote_address
    methods: tuple[str, ...] | None = None
    deduct_when: Callable[[Response], bool] | None = None  # None: every request counts


RULES = (
    Rule("auth.login", "RATELIMIT_SIGN_IN_ADDRESS", methods=("POST",), deduct_when=_failed_sign_in),
    Rule("auth.login", "RATELIMIT_SIGN_IN_ACCOUNT", _account_name, ("POST",), _failed_sign_in),
    Rule("api_auth.create_token", "RATELIMIT_SIGN_IN_ADDRESS", deduct_when=_failed_sign_in),
    Rule("api_auth.create_token", "RATELIMIT_SIGN_IN_ACCOUNT", _account_name, deduct_when=_failed_sign_in),
    Rule("views.track", "RATELIMIT_TRACKING", deduct_when=_miss),
    Rule("api_public.track", "RATELIMIT_TRACKING", deduct_when=_miss),
    Rule("open311.create_request", "RATELIMIT_OPEN311_SUBMIT", _api_key),
    *(Rule(f"open311.{name}", "RATELIMIT_OPEN311_READ")
      for name in ("discovery", "services", "service_definition", "list_requests", "get_request")),
)


def init_app(app: Flask) -> None:
    """A limiter of this app's own (tests build many apps in one process; Flask-Limiter keeps
    its storage on the limiter), wrapped around the endpoints in ``RULES``."""
    limiter = Limiter(
        get_remote_address, app=app, enabled=app.config["RATELIMIT_ENABLED"],
        storage_uri=app.config["REDIS_URL"] or "memory://",
        key_prefix=app.config["RATELIMIT_KEY_PREFIX"],
        headers_enabled=True,  # Retry-After on a 429, and the remaining count on every answer
        swallow_errors=True, in_memory_fallback_enabled=True,  # Redis down: count in memory
    )
    # Every other request (a Twilio webhook above all) skips the limiter's bookkeeping at once.
    limited = frozenset(rule.endpoint for rule in RULES)
    limiter.request_filter(lambda: request.endpoint not in limited)
    for rule in RULES:
        # Shared by every endpoint of one setting: the sign-in page and the token API draw on
        # one count, as do the tracking page and its API.
        limit = limiter.shared_limit(lambda setting=rule.setting: current_app.config[setting], rule.setting,
                                     key_func=rule.key, methods=list(rule.methods) if rule.methods else None,
                                     deduct_when=rule.deduct_when)
        app.view_functions[rule.endpoint] = limit(app.view_functions[rule.endpoint])
    app.extensions["hotline_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _api_refusal)


def retry_after() -> int:
    """Seconds until the limit just breached lets this client in again (at least 1)."""
    limiter: Limiter = current_app.extensions["hotline_limiter"]
    current = limiter.current_limit
    return max(1, math.ceil(current.reset_at - time.time())) if current else 60


def wait_text() -> str:
    """"Try again in …", for people."""
    seconds = retry_after()
    if seconds < 120:
        return _("Too many attempts. Please try again in %(n)d seconds.", n=seconds)
    return _("Too many attempts. Please try again in %(n)d minutes.", n=math.ceil(seconds / 60))


def _api_refusal(exc: RateLimitExceeded):
    """The JSON API's refusal (pages and Open311 register their own on their blueprints)."""
    from app.api.errors import error_response

    # Flask-Limiter logs every breach itself (limit, key, endpoint).
    if not request.path.startswith("/api/"):
        return exc
    seconds = retry_after()
    return error_response(429, "rate_limited", f"Too many requests ({exc.description}); "
                                               f"try again in {seconds} s")
