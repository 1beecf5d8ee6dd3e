"""Small helpers shared by the SLA tests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.factories import PASSWORD
from tickets.models import TicketEvent
from tickets.sla import SlaClock

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    """A local (Asia/Ho_Chi_Minh) moment."""
    return datetime(y, mo, d, h, mi, s, tzinfo=VN)


def iso(moment: datetime) -> str:
    """How the API writes a time: ISO 8601 in local time."""
    return moment.astimezone(VN).isoformat()


def token(client, username: str) -> str:
    response = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def bearer(client, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(client, username)}"}


def post(client, headers, path: str, **body):
    response = client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def clocks(session, ticket_id: int) -> list[SlaClock]:
    session.expire_all()
    return list(session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket_id).order_by(SlaClock.id)))


def history(session, ticket_id: int) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket_id)
                                .order_by(TicketEvent.id)))
