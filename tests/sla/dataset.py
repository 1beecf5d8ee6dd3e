"""The fixed data set the report tests check by hand (all times local, Asia/Ho_Chi_Minh).

A = SO_TNMT, B = SO_XAYDUNG (1022 contact points), H = BVDK_TINH (115 hospital); "now" is
NOW, the period November 2026. The figures each test expects are worked out in its comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from tests.sla.helpers import at
from tickets.calls import Call
from tickets.codes import new_code
from tickets.directory import ContactPoint, Hospital
from tickets.models import Ticket, TicketEvent
from tickets.sla import SlaClock

NOW = at(2026, 12, 1, 12)  # Tuesday 1 Dec 2026, noon local
ZONE = "Asia/Ho_Chi_Minh"


@dataclass
class Data:
    tickets: dict[str, int]


def _ids(session, model, *codes: str) -> list[int]:
    return [session.scalar(select(model.id).where(model.code == c)) for c in codes]


def _ticket(session, name: str, created: datetime, status: str, *, line: str = "1022", cp: int | None = None,
            hospital: int | None = None, satisfaction: int | None = None, events: tuple[str, ...] = ()) -> Ticket:
    t = Ticket(code=new_code(), line=line, channel="phone", status=status,
               priority="emergency" if line == "115" else "normal", description=name,
               contact_point_id=cp, hospital_id=hospital, created_at=created, updated_at=created,
               satisfaction=satisfaction)
    session.add(t)
    session.flush()
    for action in events:
        session.add(TicketEvent(ticket_id=t.id, action=action, actor_label="test", at=created, data={}))
    return t


def _clock(session, ticket: Ticket, clock: str, *, met: bool | None = None, elapsed: float | None = None,
           due: datetime | None = None, running: bool = False, breached: datetime | None = None,
           target: int = 14400, business: bool = True) -> None:
    session.add(SlaClock(ticket_id=ticket.id, clock=clock, business_hours=business, target_seconds=target,
                         started_at=ticket.created_at, due_at=due or ticket.created_at, warn_at=None,
                         stopped_at=None if running else ticket.created_at, elapsed_seconds=elapsed,
                         met=met, breached_at=breached))


def _call(session, ticket: Ticket, started: datetime, *, queue: int | None, answered: bool,
          ended: bool = True, voicemail: bool = False) -> None:
    session.add(Call(sid=f"CA{new_code()}", ticket_id=ticket.id, line=ticket.line, from_number="+84912345678",
                     to_number="+842741022", status="completed" if ended else "ringing", started_at=started,
                     answered_at=started if answered else None, ended_at=started if ended else None,
                     queue_time=queue, voicemail=voicemail))


def build(session) -> Data:
    """Insert the data set and commit."""
    a, b = _ids(session, ContactPoint, "SO_TNMT", "SO_XAYDUNG")
    [h] = _ids(session, Hospital, "BVDK_TINH")
    T = {}
    # -- contact point A: 9 tickets created in November -----------------------------------
    T["t1"] = t = _ticket(session, "t1", at(2026, 11, 2, 9), "resolved", cp=a, satisfaction=1, events=("resolve",))
    _clock(session, t, "first_response", met=None, elapsed=1000)  # stopped by a reassignment: not scored
    _clock(session, t, "first_response", met=True, elapsed=3600)
    _clock(session, t, "resolution", met=True, elapsed=36000)
    T["t2"] = t = _ticket(session, "t2", at(2026, 11, 5, 9), "closed", cp=a, satisfaction=2,
                          events=("resolve", "reopen", "resolve"))
    _clock(session, t, "first_response", met=False, elapsed=18000, due=at(2026, 11, 5, 13, 30))
    _clock(session, t, "resolution", met=True, elapsed=20000)
    _clock(session, t, "resolution", met=False, elapsed=150000, due=at(2026, 11, 25, 10), target=144000)
    T["t3"] = t = _ticket(session, "t3", at(2026, 11, 10, 9), "in_progress", cp=a)
    _clock(session, t, "first_response", met=True, elapsed=7200)
    _clock(session, t, "resolution", running=True, due=at(2026, 12, 10, 9))
    T["t4"] = t = _ticket(session, "t4", at(2026, 11, 30, 20), "assigned", cp=a)  # 16 h old
    _clock(session, t, "first_response", running=True, due=at(2026, 12, 1, 9))  # late, not swept yet
    T["t5"] = _ticket(session, "t5", at(2026, 11, 29, 10), "new", cp=a)  # 2 days old
    T["t8"] = t = _ticket(session, "t8", at(2026, 11, 12, 9), "cancelled", cp=a)
    _clock(session, t, "resolution", met=None, elapsed=500)
    T["t9"] = _ticket(session, "t9", at(2026, 11, 26, 10), "assigned", cp=a)  # 5 days old
    T["t10"] = _ticket(session, "t10", at(2026, 11, 20, 9), "resolved", cp=a, satisfaction=1, events=("resolve",))
    T["t15"] = _ticket(session, "t15", at(2026, 11, 1, 0, 30), "resolved", cp=a, events=("resolve",))  # 31 Oct UTC
    # A, outside November: in the backlog only.
    T["t6"] = t = _ticket(session, "t6", at(2026, 10, 15, 9), "assigned", cp=a)
    _clock(session, t, "first_response", met=True, elapsed=999)
    T["t14"] = _ticket(session, "t14", at(2026, 12, 1, 0, 30), "new", cp=a)  # 30 Nov UTC, 1 Dec here
    # -- contact point B -------------------------------------------------------------------
    T["t11"] = t = _ticket(session, "t11", at(2026, 11, 20, 10), "resolved", cp=b, events=("resolve",))
    _clock(session, t, "first_response", met=True, elapsed=600)
    _clock(session, t, "resolution", met=True, elapsed=1800)
    # -- hospital H (115) ------------------------------------------------------------------
    T["t12"] = t = _ticket(session, "t12", at(2026, 11, 15, 10), "closed", line="115", hospital=h,
                           events=("resolve",))
    _clock(session, t, "acknowledgement", met=True, elapsed=45, target=60, business=False)
    _clock(session, t, "resolution", met=True, elapsed=3000, target=7200, business=False)
    T["t13"] = t = _ticket(session, "t13", at(2026, 11, 16, 10), "in_progress", line="115", hospital=h)
    _clock(session, t, "acknowledgement", met=False, elapsed=200, target=60, business=False,
           due=at(2026, 11, 16, 10, 1))
    _clock(session, t, "resolution", running=True, target=7200, business=False, due=at(2026, 11, 16, 12),
           breached=at(2026, 11, 16, 12, 0, 10))
    # -- nowhere yet ---------------------------------------------------------------------------
    T["t16"] = _ticket(session, "t16", at(2026, 11, 18, 9), "new")
    # -- calls ---------------------------------------------------------------------------------
    _call(session, T["t1"], at(2026, 11, 2, 9, 5), queue=10, answered=True)
    _call(session, T["t2"], at(2026, 11, 5, 9, 10), queue=20, answered=True)
    _call(session, T["t3"], at(2026, 11, 10, 9, 20), queue=30, answered=False)  # abandoned
    _call(session, T["t5"], at(2026, 11, 29, 9, 40), queue=None, answered=False, voicemail=True)
    _call(session, T["t10"], at(2026, 11, 20, 14), queue=5, answered=True)
    _call(session, T["t15"], at(2026, 11, 1, 0, 10), queue=12, answered=True)  # 31 Oct 17:10 UTC
    _call(session, T["t14"], at(2026, 12, 1, 0, 30), queue=1, answered=True)  # December: not counted
    _call(session, T["t12"], at(2026, 11, 15, 9, 30), queue=3, answered=True)
    _call(session, T["t13"], at(2026, 11, 16, 23, 59), queue=40, answered=False, ended=False)  # still ringing
    session.commit()
    return Data({k: v.id for k, v in T.items()})
