"""Settings from environment variables (CONTRACT.md); each key equals its variable's name."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import date
from typing import Any

from tickets.calendar import DEFAULT_HOURS


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _dates(env: Mapping[str, str], name: str) -> frozenset[date]:
    raw = env.get(name) or ""
    try:
        return frozenset(date.fromisoformat(d.strip()) for d in raw.split(",") if d.strip())
    except ValueError as exc:
        raise RuntimeError(f"{name} must be dates like 2027-02-15,2027-04-30: {exc}") from exc


def _phones(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    from tickets.errors import ValidationFailed
    from tickets.phones import normalise_phone

    raw = env.get(name) or ""
    try:
        return tuple(normalise_phone(n.strip(), name) for n in raw.split(",") if n.strip())
    except ValidationFailed as exc:
        raise RuntimeError(f"{name} must be phone numbers like +84912345678,+84987654321: "
                           f"{exc.fields.get(name, exc.message)}") from exc


# What the operators' browser softphone needs (a Twilio API key and a TwiML app); without
# them operators answer on desk phones.
SOFTPHONE_SETTINGS = ("TWILIO_ACCOUNT_SID", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_TWIML_APP_SID")


def softphone_missing(config: Mapping[str, Any]) -> list[str]:
    """The softphone settings ``config`` lacks (empty: the softphone can be offered)."""
    return [key for key in SOFTPHONE_SETTINGS if not config.get(key)]


def from_environment(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The app's configuration as read from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    host = env.get("HOST", "127.0.0.1")
    port = _int(env, "PORT", 5000)
    demo = _bool(env, "HOTLINE_DEMO", False)
    secret = env.get("SECRET_KEY")
    return {
        "DATABASE_URL": env.get("DATABASE_URL", "sqlite:///instance/hotline.db"),
        "REDIS_URL": env.get("REDIS_URL") or None,
        # The Redis pub/sub channel the app processes and workers share for Socket.IO: one per
        # deployment, so two hotlines (or test runs) on one Redis never hear each other.
        "SOCKETIO_CHANNEL": env.get("SOCKETIO_CHANNEL", "flask-socketio"),
        # Without SECRET_KEY a fresh key per start keeps secrets out of the repo; fine in
        # demo mode, but it logs everyone out on restart, so `python wsgi.py` warns.
        "SECRET_KEY": secret or secrets.token_hex(32),
        "SECRET_KEY_IS_EPHEMERAL": not secret,
        "HOTLINE_DEMO": demo,
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID") or None,
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN") or None,
        "HOTLINE_NUMBER_1022": env.get("HOTLINE_NUMBER_1022", "+842741022"),
        "HOTLINE_NUMBER_115": env.get("HOTLINE_NUMBER_115", "+84274115"),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", f"http://{host}:{port}"),
        "HOTLINE_TIMEZONE": env.get("HOTLINE_TIMEZONE", "Asia/Ho_Chi_Minh"),
        "DISPATCH_ACK_SECONDS": _int(env, "DISPATCH_ACK_SECONDS", 60),
        # Map tiles for the 115 board, e.g. a tile server inside the closed network
        # ("https://tiles.example.vn/{z}/{x}/{y}.png"). Unset: no tiles, the map still draws
        # the district boundaries, the hospitals and the callers.
        "MAP_TILE_URL": env.get("MAP_TILE_URL") or None,
        # Twilio: softphone tokens (optional) and the voice that reads prompts.
        "TWILIO_API_KEY": env.get("TWILIO_API_KEY") or None,
        "TWILIO_API_SECRET": env.get("TWILIO_API_SECRET") or None,
        "TWILIO_TWIML_APP_SID": env.get("TWILIO_TWIML_APP_SID") or None,
        "TWILIO_VOICE": env.get("TWILIO_VOICE", "Google.vi-VN-Wavenet-A"),
        # When the 1022 line is staffed ("always" for 24/7); outside it calls go to voicemail.
        "HOTLINE_1022_HOURS": env.get("HOTLINE_1022_HOURS", "always" if demo else DEFAULT_HOURS),
        # Working hours of the departments, for 1022 SLA clocks.
        "SLA_WORKING_HOURS": env.get("SLA_WORKING_HOURS", DEFAULT_HOURS),
        # Days the province adds off or on, beyond Vietnam's public holidays: YYYY-MM-DD,…
        "HOTLINE_DAYS_OFF": _dates(env, "HOTLINE_DAYS_OFF"),
        "HOTLINE_WORKING_DAYS": _dates(env, "HOTLINE_WORKING_DAYS"),
        # 115: if no dispatcher answers within this time, the call is put through to this number.
        "DISPATCHER_ANSWER_SECONDS": _int(env, "DISPATCHER_ANSWER_SECONDS", 30),
        "HOTLINE_115_FALLBACK_NUMBER": env.get("HOTLINE_115_FALLBACK_NUMBER") or None,
        # 115: who is sent an SMS when a case is escalated to a person (no hospital acknowledged
        # after several tries, or none is left), besides the supervisors' consoles.
        "SUPERVISOR_ALERT_NUMBERS": _phones(env, "SUPERVISOR_ALERT_NUMBERS"),
        # Personal-data retention (tickets/retention.py): finished tickets unchanged for this
        # many months lose the caller's personal data, once a day; 0 keeps it for ever.
        "RETENTION_MONTHS": _int(env, "RETENTION_MONTHS", 24),
        # GET /metrics: when set, Prometheus must send "Authorization: Bearer <METRICS_TOKEN>";
        # unset, /metrics is open (scraped on the internal network; a warning at startup).
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        # Open311 GeoReport v2: the jurisdiction this endpoint serves. A request naming another
        # jurisdiction_id is answered 404; one naming none is served.
        "OPEN311_JURISDICTION": env.get("OPEN311_JURISDICTION") or "binhduong.gov.vn",
        # Rate limits (app/rate_limits.py): "N per second|minute|hour|day", several joined by ";".
        "RATELIMIT_ENABLED": _bool(env, "RATELIMIT_ENABLED", True),
        "RATELIMIT_KEY_PREFIX": env.get("RATELIMIT_KEY_PREFIX") or "hotline",
        # Failed sign-ins (page and token API together) per client address, and per account name.
        "RATELIMIT_SIGN_IN_ADDRESS": env.get("RATELIMIT_SIGN_IN_ADDRESS") or "20 per minute;200 per hour",
        "RATELIMIT_SIGN_IN_ACCOUNT": env.get("RATELIMIT_SIGN_IN_ACCOUNT") or "10 per 15 minutes",
        # Tracking lookups of a code that does not exist, per client address.
        "RATELIMIT_TRACKING": env.get("RATELIMIT_TRACKING") or "20 per minute;200 per day",
        "RATELIMIT_OPEN311_SUBMIT": env.get("RATELIMIT_OPEN311_SUBMIT") or "60 per minute;2000 per day",
        "RATELIMIT_OPEN311_READ": env.get("RATELIMIT_OPEN311_READ") or "120 per minute",
        # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto in front of the
        # app. 0 (no proxy) trusts no such header: a client could otherwise pick its own address.
        "TRUSTED_PROXY_HOPS": _int(env, "TRUSTED_PROXY_HOPS", 0),
        "HOST": host,
        "PORT": port,
        # Bodies over 1 MB are refused with 413 before any parsing.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env, "SESSION_COOKIE_SECURE", False),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": env.get("HOTLINE_TIMEZONE", "Asia/Ho_Chi_Minh"),
        "WTF_CSRF_TIME_LIMIT": None,
    }
