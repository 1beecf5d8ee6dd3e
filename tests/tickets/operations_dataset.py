"""A small operations-centre data set for the metrics tests, built through the services (calls
by their webhooks' functions, tickets and their SLA clocks, the outbox, the desk alerts).

"Now" is Wednesday 25 November 2026, 10:00 in Bình Dương (03:00 UTC), inside working hours.
What it holds, and so what the figures must say:

| ticket | line | channel | status      | where      | clocks now                                          |
|--------|------|---------|-------------|------------|-----------------------------------------------------|
| t1     | 1022 | phone   | new         | nowhere    | resolution ok — its call has waited 40 s             |
| t10    | 1022 | phone   | new         | nowhere    | resolution ok — its call ended in a voicemail        |
| t2     | 1022 | web     | assigned    | SO_TNMT    | resolution ok, first response ok                     |
| t8     | 1022 | email   | assigned    | SO_XAYDUNG | both paused (waiting on the caller)                  |
| t6     | 1022 | sms     | cancelled   | nowhere    | —                                                    |
| t3     | 115  | phone   | assigned    | BVDK_TINH  | resolution ok, acknowledgement breached (swept)      |
| t4     | 115  | phone   | in_progress | BV_QD4     | resolution ok; acknowledged after 45 s, 29 min ago   |
| t7     | 115  | phone   | new         | nowhere    | resolution in warning (100 of 120 min); unanswered   |
| t5     | 115  | phone   | resolved    | BVDK_TINH  | acknowledged after 100 s (late), two days ago; "1"   |

Calls: 1022 — one waiting (t1), one ended in a voicemail (t10); 115 — one answered and
completed (t3), one answered and still in progress (t4), one not answered (t7).
On duty: two operators, one dispatcher (and a third operator and a supervisor who are not).
Outbox: two queued (10 and 3 min old), one being sent (20 min old), one delivered, one failed.
Desk alerts: t3's call queued; t4's skipped (the hospital had acknowledged).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.factories import SYSTEM, make_user
from tickets import sla
from tickets.accounts import set_on_duty
from tickets.calendar import BusinessCalendar
from tickets.calls import attach_recording, mark_answered, open_call, update_call_status
from tickets.hospital_alerts import claim_alert, mark_skipped, queue_desk_alerts
from tickets.messages import claim_message, mark_sent, queue_message, update_delivery
from tickets.models import Ticket
from tickets.services import (
    NewTicket,
    accept_ticket,
    ask_caller,
    assign_ticket,
    cancel_ticket,
    open_ticket,
    resolve_ticket,
)

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
CALENDARS = sla.Calendars(business=BusinessCalendar(), always=BusinessCalendar(always_open=True))
ACK_SECONDS = 60
NUMBER_1022, NUMBER_115 = "+842741022", "+84274115"


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


@dataclass
class Scenario:
    tickets: dict[str, int] = field(default_factory=dict)  # name → id
    codes: list[str] = field(default_factory=list)  # every tracking code
    phones: list[str] = field(default_factory=list)  # every caller's and recipient's number
    call_sids: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, session):
        self.session = session
        self.scenario = Scenario()
        self._n = 0

    def phone(self) -> str:
        self._n += 1
        number = f"+8491200{self._n:04d}"
        self.scenario.phones.append(number)
        return number

    def commit(self, events: list, now: datetime) -> list:
        """What the app does after each change: the SLA clocks react, then the commit."""
        sla.apply(self.session, events, now, CALENDARS, ACK_SECONDS)
        self.session.commit()
        return events

    def note(self, name: str, ticket) -> int:
        self.scenario.tickets[name] = ticket.id
        self.scenario.codes.append(ticket.code)
        return ticket.id

    def call(self, name: str, line: str, started: datetime):
        caller = self.phone()
        sid = f"CA{self._n:032x}"
        self.scenario.call_sids.append(sid)
        call, events = open_call(self.session, sid=sid, line=line, from_raw=caller,
                                 to=NUMBER_1022 if line == "1022" else NUMBER_115, now=started)
        self.commit(events, started)
        self.note(name, call.ticket)
        return call

    def ticket(self, name: str, line: str, channel: str, opened: datetime) -> int:
        ticket, events = open_ticket(self.session, SYSTEM, NewTicket(
            line=line, channel=channel, description=f"Phản ánh {name}", caller_phone=self.phone()), opened)
        self.commit(events, opened)
        return self.note(name, ticket)

    def act(self, service, ticket_id: int, now: datetime, **kwargs) -> list:
        return self.commit(service(self.session, SYSTEM, ticket_id, now, **kwargs), now)

    def message(self, created: datetime) -> int:
        return queue_message(self.session, to=self.phone(), body="Mã phản ánh của bạn", kind="tracking",
                             now=created).message_id


def build(session) -> Scenario:
    """The data set of the module docstring, committed."""
    b = _Builder(session)

    # ---- 1022 -------------------------------------------------------------------------------
    b.call("t1", "1022", ago(seconds=40))  # still ringing: waiting for an operator
    voicemail = b.call("t10", "1022", ago(minutes=20))
    b.commit(update_call_status(session, voicemail, "completed", ago(minutes=18), duration=95), ago(minutes=18))
    b.commit(attach_recording(session, voicemail, recording_sid=f"RE{1:032x}", url="https://api.twilio.com/rec/1",
                              duration=60, now=ago(minutes=18)), ago(minutes=18))
    t2 = b.ticket("t2", "1022", "web", ago(hours=1))
    b.act(assign_ticket, t2, ago(minutes=30), contact_point="SO_TNMT")
    t8 = b.ticket("t8", "1022", "email", ago(hours=2))
    b.act(assign_ticket, t8, ago(hours=1), contact_point="SO_XAYDUNG")
    b.act(ask_caller, t8, ago(minutes=15), question="Xin cho biết số nhà?")
    t6 = b.ticket("t6", "1022", "sms", ago(hours=3))
    b.act(cancel_ticket, t6, ago(hours=2), reason="Trùng")

    # ---- 115 --------------------------------------------------------------------------------
    c3 = b.call("t3", "115", ago(minutes=10))
    mark_answered(session, c3, ago(minutes=10) + timedelta(seconds=5))
    dispatch = b.act(assign_ticket, c3.ticket_id, ago(minutes=10) + timedelta(seconds=30), hospital="BVDK_TINH")
    queue_desk_alerts(session, dispatch, ago(minutes=10) + timedelta(seconds=30))
    b.commit(update_call_status(session, c3, "completed", ago(minutes=5), duration=300), ago(minutes=5))

    c4 = b.call("t4", "115", ago(minutes=30))
    mark_answered(session, c4, ago(minutes=30) + timedelta(seconds=3))
    b.commit(update_call_status(session, c4, "in-progress", ago(minutes=30) + timedelta(seconds=3)), ago(minutes=30))
    dispatch = b.act(assign_ticket, c4.ticket_id, ago(minutes=29), hospital="BV_QD4")
    [skipped] = queue_desk_alerts(session, dispatch, ago(minutes=29))
    session.commit()
    b.act(accept_ticket, c4.ticket_id, ago(minutes=29) + timedelta(seconds=45))
    alert = claim_alert(session, skipped.alert_id, ago(minutes=28))
    mark_skipped(session, alert, "acknowledged", ago(minutes=28))
    session.commit()

    c7 = b.call("t7", "115", ago(minutes=100))
    b.commit(update_call_status(session, c7, "no-answer", ago(minutes=99)), ago(minutes=99))

    t5 = b.ticket("t5", "115", "phone", ago(days=2))
    b.act(assign_ticket, t5, ago(days=2), hospital="BVDK_TINH")
    b.act(accept_ticket, t5, ago(days=2) + timedelta(seconds=100))
    b.act(resolve_ticket, t5, ago(days=2) + timedelta(hours=1), resolution="Đã bàn giao người bệnh")
    session.get(Ticket, t5).satisfaction = 1  # the caller answered the survey "1"
    session.commit()

    # ---- the SLA sweep has run: t3's acknowledgement is marked breached, t7 warned ------------
    sla.sweep(session, NOW)
    session.commit()

    # ---- people -----------------------------------------------------------------------------
    for role, on in (("operator", True), ("operator", True), ("operator", False), ("dispatcher", True),
                     ("dispatcher", False), ("supervisor", True)):
        set_on_duty(session, make_user(session, role), on)
    session.commit()

    # ---- the outbox -------------------------------------------------------------------------
    b.message(ago(minutes=10))
    b.message(ago(minutes=3))
    claim_message(session, b.message(ago(minutes=20)), ago(minutes=1))  # being sent
    for n, (created, final) in enumerate(((ago(hours=1), "delivered"), (ago(hours=2), "failed"))):
        message = claim_message(session, b.message(created), created)
        mark_sent(session, message, f"SM{n:032x}", created)
        update_delivery(session, message.provider_sid, final, created + timedelta(seconds=5))
    session.commit()
    return b.scenario
