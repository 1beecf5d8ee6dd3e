"""Times as the outside world sees them: ISO 8601 in the hotline's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app


def local(dt: datetime | None) -> datetime | None:
    """``dt`` converted to HOTLINE_TIMEZONE (Asia/Ho_Chi_Minh by default)."""
    if dt is None:
        return None
    return dt.astimezone(ZoneInfo(current_app.config["HOTLINE_TIMEZONE"]))
