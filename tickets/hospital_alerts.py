"""Reaching a hospital's emergency desk when a 115 ticket is dispatched to it.

Besides the hospital's console, each dispatch calls the desk phone (a voice reads the case;
pressing 1 acknowledges) and sends it an SMS, so a desk that does not watch a screen is still
reached. Each call and SMS is a row written in the same transaction as the dispatch: the
database is the source of truth. A job places the call (or sends the SMS) after commit,
claiming its row with a conditional UPDATE so it happens once; a sweep finds rows whose job
was lost. An alert whose case was acknowledged or went to another hospital meanwhile is
skipped, never sent: a desk must not prepare for a patient who is going elsewhere.

Desk numbers are directory data (``data/directory/hospital_desks.csv``).
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from tickets import services, sms_texts
from tickets.db import Base, UTCDateTime, claim_for_sending
from tickets.directory import Category, District, Hospital, Ward
from tickets.errors import ValidationFailed
from tickets.events import LateAcknowledgement, TicketChanged
from tickets.lifecycle import Status
from tickets.messages import MessageQueued, queue_message
from tickets.models import Ticket, TicketEvent
from tickets.permissions import SystemActor
from tickets.phones import is_mobile, normalise_phone

ALERTS = SystemActor("Thông báo trực cấp cứu 115")
MAX_ATTEMPTS = 3
# Seconds before the next try after each failure; within the 60-second acknowledgement
# window, after which the case goes to the next hospital and the alert is moot.
BACKOFF = (10, 30)
# A row left "sending" this long belongs to a worker that died mid-request. Whether Twilio
# placed the call is unknowable, so it is marked "unknown", never tried again.
STALE_SENDING = timedelta(minutes=2)

# Progress only moves forward: a late "ringing" after "completed" changes nothing. Ours:
# queued, sending, placed/sent, skipped, failed (gave up), unknown (a worker died while
# sending: Twilio's own report may still say what happened); the rest are Twilio's.
_CALL_RANK = {"queued": 0, "sending": 1, "unknown": 2, "placed": 2, "initiated": 3, "ringing": 4,
              "in-progress": 5, "completed": 6, "busy": 6, "no-answer": 6, "failed": 6, "canceled": 6,
              "skipped": 7}
_SMS_RANK = {"queued": 0, "sending": 1, "unknown": 2, "accepted": 2, "sent": 2, "delivered": 3,
             "undelivered": 3, "failed": 3, "read": 4, "skipped": 5}
CALL_NOT_REACHED = frozenset({"busy", "no-answer", "failed", "canceled"})
SMS_NOT_DELIVERED = frozenset({"undelivered", "failed"})

PRIORITY_VI = {"emergency": "khẩn cấp", "high": "ưu tiên cao", "normal": "thông thường", "low": "không khẩn"}
NO_DESK_PHONE = "Bệnh viện chưa có số điện thoại trực cấp cứu: không gọi tự động được"


class HospitalAlert(Base):
    """One call to, or one SMS for, a hospital's emergency desk about one dispatch."""

    __tablename__ = "hospital_alerts"
    # One call and one SMS per dispatch, whatever runs twice.
    __table_args__ = (UniqueConstraint("dispatch_event_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    # The "assign" history event this alert announces; a later dispatch makes it stale.
    dispatch_event_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id"))
    channel: Mapped[str] = mapped_column(String(10))  # call, sms
    to_number: Mapped[str | None] = mapped_column(String(20))  # None: the desk has no phone (noted by the job)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)  # CallSid / MessageSid
    body: Mapped[str | None] = mapped_column(Text)  # the SMS as sent
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    duration: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)  # backoff after a failure
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the desk pressed 1

    ticket: Mapped[Ticket] = relationship()
    hospital: Mapped[Hospital] = relationship(lazy="joined")


@dataclass(frozen=True)
class AlertQueued:
    """An alert row is waiting (the app enqueues its job after commit)."""

    alert_id: int


@dataclass(frozen=True)
class HospitalDesk:
    """A hospital's emergency desk acting by phone: it acts as that hospital, and the history
    says it was the desk phone."""

    hospital: Hospital
    phone: str
    id: None = None
    role: str = "hospital"
    contact_point_id: None = None

    @property
    def hospital_id(self) -> int:
        return self.hospital.id

    @property
    def label(self) -> str:
        # The phone first: a long hospital name is what gets cut to fit the column.
        return f"Trực cấp cứu qua điện thoại {self.phone} (bấm phím 1) — {self.hospital.name}"[:200]


# ---- what the desk is told -----------------------------------------------------------------

@dataclass(frozen=True)
class CaseFacts:
    """A case as read to a desk: plain Vietnamese strings (never the caller's name or phone)."""

    code: str  # the tracking code
    priority: str
    what: str
    where: str
    hospital: str


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def case_facts(session: Session, ticket: Ticket, hospital: Hospital, *,
               near: tuple[str | None, str | None] | None = None) -> CaseFacts:
    """What happened, where and how urgent; ``near`` is the (ward, district) a point lies in
    when the ticket names no ward."""
    category = session.get(Category, ticket.category_code) if ticket.category_code else None
    what = "; ".join(p for p in (category.name_vi if category else "",
                                 _shorten(ticket.description or "", 160)) if p)
    return CaseFacts(code=ticket.code, priority=PRIORITY_VI.get(ticket.priority, ticket.priority),
                     what=what or "chưa có mô tả", where=_where(session, ticket, near), hospital=hospital.name)


def _where(session: Session, ticket: Ticket, near: tuple[str | None, str | None] | None) -> str:
    ward_code, district_code = ticket.ward_code, None
    approximate = ward_code is None and near is not None
    if approximate:
        ward_code, district_code = near
    ward = session.get(Ward, ward_code) if ward_code else None
    district_code = ward.district_code if ward else district_code
    district = session.get(District, district_code) if district_code else None
    address = " ".join((ticket.address or "").split())
    # An address often names its ward and district already: say each place once.
    names = [n for n in (ward.name if ward else None, district.name if district else None)
             if n and n.lower() not in address.lower()]
    place = ("gần " if approximate and names else "") + ", ".join(names)
    text = ", ".join(p for p in (address, place) if p)
    if text:
        return text
    if ticket.lat is not None and ticket.lon is not None:
        return f"tọa độ {ticket.lat:.5f}, {ticket.lon:.5f}"
    return "chưa rõ địa điểm"


# ---- at dispatch: queue the alerts ---------------------------------------------------------

def desk_numbers(hospital: Hospital) -> tuple[str | None, str | None]:
    """(the number to call, the number to text): the SMS goes to the desk's mobile, or to the
    desk phone itself when that is a mobile."""
    sms = hospital.sms_phone or (hospital.desk_phone if hospital.desk_phone and is_mobile(hospital.desk_phone)
                                 else None)
    return hospital.desk_phone, sms


def queue_desk_alerts(session: Session, events: list, now: datetime) -> list[AlertQueued]:
    """For each 115 dispatch among ``events``, a call and an SMS to the hospital's desk, in
    the dispatch's transaction. A desk without a phone still gets its call row: its job then
    notes in the history that nobody could be called (a system note of its own, so the
    dispatch itself still appends exactly one history event)."""
    queued: list[AlertQueued] = []
    for event in events:
        if not (isinstance(event, TicketChanged) and event.action == "assign" and event.event_id):
            continue
        dispatch = session.get(TicketEvent, event.event_id)
        code = dispatch.data.get("hospital") if dispatch is not None else None
        hospital = session.scalar(select(Hospital).where(Hospital.code == code)) if code else None
        if hospital is None:
            continue  # a 1022 assignment
        call_to, sms_to = desk_numbers(hospital)
        for channel, to in (("call", call_to), ("sms", sms_to)):
            if to or channel == "call":
                alert = HospitalAlert(ticket_id=event.ticket_id, hospital_id=hospital.id, dispatch_event_id=dispatch.id,
                                      channel=channel, to_number=to, status="queued", attempts=0, created_at=now)
                session.add(alert)
                session.flush()
                queued.append(AlertQueued(alert.id))
    return queued


def alert_supervisors(session: Session, events: list, numbers: tuple[str, ...],
                      now: datetime) -> list[MessageQueued]:
    """An SMS to every supervisor number when a 115 case is escalated to a person."""
    queued: list[MessageQueued] = []
    done: set[int] = set()
    for event in events:
        if not numbers or not (isinstance(event, TicketChanged) and event.action == "escalated"):
            continue
        ticket = session.get(Ticket, event.ticket_id)
        if ticket is None or ticket.line != "115" or ticket.id in done:
            continue
        done.add(ticket.id)
        escalation = session.scalar(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.action == "escalated").order_by(TicketEvent.id.desc())
            .limit(1))
        data = escalation.data if escalation is not None else {}
        going = session.scalar(select(Hospital).where(Hospital.code == data.get("hospital"))) \
            if data.get("hospital") else None
        body = sms_texts.supervisor_escalation(
            ticket.code, failures=int(data.get("failures") or 0), next_hospital=going.name if going else None,
            where=_where(session, ticket, None))
        queued += [queue_message(session, to=number, body=body, kind="escalation", now=now, ticket_id=ticket.id)
                   for number in numbers]
    return queued


# ---- the job: claim, check, send -----------------------------------------------------------

def claim_alert(session: Session, alert_id: int, now: datetime) -> HospitalAlert | None:
    """Take the row for sending, atomically; None if it is not waiting (sent, or taken)."""
    return claim_for_sending(session, HospitalAlert, alert_id, now)


def _current_dispatch_id(session: Session, ticket_id: int) -> int | None:
    return session.scalar(select(TicketEvent.id).where(TicketEvent.ticket_id == ticket_id,
                                                       TicketEvent.action == "assign")
                          .order_by(TicketEvent.id.desc()).limit(1))


def why_not_send(session: Session, alert: HospitalAlert) -> str | None:
    """Why sending this alert now would be wrong (None: send it)."""
    if alert.to_number is None:
        return "no_number"
    ticket = alert.ticket
    if ticket.status != Status.ASSIGNED:
        return {Status.IN_PROGRESS: "acknowledged", Status.CANCELLED: "cancelled"}.get(ticket.status, "closed")
    if _current_dispatch_id(session, ticket.id) != alert.dispatch_event_id:
        return "redispatched"
    return None


def mark_skipped(session: Session, alert: HospitalAlert, reason: str, now: datetime) -> list[TicketChanged]:
    """The alert will never be sent (see ``why_not_send``); a desk without a phone is noted
    in the ticket's history, with whether it was at least texted."""
    alert.status = "skipped"
    alert.last_error = reason
    alert.status_at = now
    if reason != "no_number":
        return []
    texted = session.scalar(select(HospitalAlert.to_number).where(
        HospitalAlert.dispatch_event_id == alert.dispatch_event_id, HospitalAlert.channel == "sms"))
    return _note(session, alert, "desk_alert_skipped", now, channel=alert.channel, reason=NO_DESK_PHONE,
                 sms_to=texted)


def mark_placed(alert: HospitalAlert, provider_sid: str, now: datetime) -> None:
    """Twilio accepted the call or the SMS (a status callback may already have moved it on)."""
    alert.provider_sid = provider_sid
    alert.placed_at = now
    alert.last_error = None
    done = "placed" if alert.channel == "call" else "sent"
    if _rank(alert, done) > _rank(alert, alert.status):
        alert.status = done
        alert.status_at = now


def release_after_failure(session: Session, alert: HospitalAlert, error: str, now: datetime) -> list[TicketChanged]:
    """Twilio refused or was unreachable, so nothing went out: try again after the backoff, or
    after MAX_ATTEMPTS give up and say so in the ticket's history."""
    alert.last_error = error[:500]
    if alert.attempts < MAX_ATTEMPTS:
        alert.status = "queued"
        alert.not_before = now + timedelta(seconds=BACKOFF[min(alert.attempts, len(BACKOFF)) - 1])
        return []
    alert.status = "failed"
    alert.status_at = now
    return _note(session, alert, f"desk_{alert.channel}_failed", now, attempts=alert.attempts, error=alert.last_error)


def _note(session: Session, alert: HospitalAlert, action: str, now: datetime, **data) -> list[TicketChanged]:
    event = services.record_event(session, alert.ticket, ALERTS, action, now, hospital=alert.hospital.code,
                                  to=alert.to_number, **data)
    session.flush()
    return [TicketChanged(alert.ticket_id, action, event.id)]


def waiting_alerts(session: Session, now: datetime, older_than: timedelta) -> list[int]:
    """Queued rows nobody is sending (their job was lost, Redis was down) whose backoff is over."""
    return list(session.scalars(
        select(HospitalAlert.id).where(
            HospitalAlert.status == "queued", HospitalAlert.created_at <= now - older_than,
            (HospitalAlert.not_before.is_(None)) | (HospitalAlert.not_before <= now))
        .order_by(HospitalAlert.id).limit(200)))


def expire_stale_sending(session: Session, now: datetime) -> int:
    """Rows stuck in "sending" after a worker died become "unknown" (never sent again)."""
    return session.execute(
        update(HospitalAlert)
        .where(HospitalAlert.status == "sending", HospitalAlert.claimed_at < now - STALE_SENDING)
        .values(status="unknown", status_at=now, last_error="worker stopped while sending; check by hand")
        .execution_options(synchronize_session=False)
    ).rowcount


def desk_sms(facts: CaseFacts) -> str:
    """The SMS a desk receives about a dispatch."""
    return sms_texts.desk_alert(facts.code, facts.priority, facts.what, facts.where)


# ---- Twilio's callbacks --------------------------------------------------------------------

def _rank(alert: HospitalAlert, status: str) -> int:
    return (_CALL_RANK if alert.channel == "call" else _SMS_RANK).get(status, -1)


def record_status(session: Session, alert: HospitalAlert, status: str, now: datetime, *,
                  provider_sid: str | None = None, duration: int | None = None,
                  error_code: str | None = None) -> list[TicketChanged]:
    """Apply a call or SMS status callback, forward only; a desk not reached (no answer, busy,
    failed, or a call that ended without anyone pressing 1) is noted in the ticket's history."""
    if provider_sid and alert.provider_sid and provider_sid != alert.provider_sid:
        return []  # not this alert's call
    if provider_sid and alert.provider_sid is None:
        alert.provider_sid = provider_sid  # the callback overtook the job recording the sid
    if _rank(alert, status) <= _rank(alert, alert.status):
        return []
    alert.status = status
    alert.status_at = now
    if duration is not None:
        alert.duration = duration
    if error_code:
        alert.last_error = f"Twilio error {error_code}"
    if alert.channel == "sms":
        return _note(session, alert, "desk_sms_failed", now, status=status, error=alert.last_error) \
            if status in SMS_NOT_DELIVERED else []
    if status in CALL_NOT_REACHED or (status == "completed" and alert.acknowledged_at is None):
        return _note(session, alert, "desk_call_ended", now, status=status, acknowledged=False, duration=duration)
    return []


# ---- the desk presses 1 --------------------------------------------------------------------

@dataclass(frozen=True)
class DeskAnswer:
    """What pressing 1 did: ``outcome`` is acknowledged, late (the case went to
    ``current_hospital``), already (acknowledged before), closed, or unknown."""

    outcome: str
    events: list
    current_hospital: Hospital | None = None


def desk_view(alert: HospitalAlert) -> tuple[str, Hospital | None]:
    """Where the case stands for the desk of ``alert``: waiting (for its acknowledgement),
    already (acknowledged), elsewhere (with the hospital that has it), or closed."""
    ticket = alert.ticket
    if ticket.status in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED):
        return "closed", None
    if ticket.hospital_id != alert.hospital_id:
        return "elsewhere", ticket.hospital
    return ("waiting" if ticket.status == Status.ASSIGNED else "already"), None


def acknowledge_by_phone(session: Session, alert_id: int, now: datetime) -> DeskAnswer:
    """The desk pressed 1: acknowledge through the same service as the hospital's console,
    as the desk. After the case went to another hospital the late acknowledgement is recorded
    and nothing else changes; pressing 1 again records nothing more."""
    alert = session.get(HospitalAlert, alert_id)
    if alert is None or alert.channel != "call":
        return DeskAnswer("unknown", [])
    state, elsewhere = desk_view(alert)
    if state in ("closed", "already"):
        return DeskAnswer(state, [])
    if state == "elsewhere" and alert.acknowledged_at is not None:
        return DeskAnswer("late", [], elsewhere)  # recorded the first time
    events = services.accept_ticket(session, HospitalDesk(alert.hospital, alert.to_number), alert.ticket_id, now)
    alert.acknowledged_at = now
    session.flush()
    late = any(isinstance(e, LateAcknowledgement) for e in events)
    return DeskAnswer("late" if late else "acknowledged", events, elsewhere if late else None)


def last_placed_call(session: Session, alert_id: int | None = None) -> HospitalAlert | None:
    """The desk call ``alert_id``, or the latest one placed and not yet over (for the simulator)."""
    if alert_id is not None:
        alert = session.get(HospitalAlert, alert_id)
        return alert if alert is not None and alert.channel == "call" else None
    return session.scalar(select(HospitalAlert).where(
        HospitalAlert.channel == "call", HospitalAlert.status.in_(("placed", "initiated", "ringing")))
        .order_by(HospitalAlert.id.desc()).limit(1))


# ---- desk numbers: directory data ----------------------------------------------------------

DESK_COLUMNS = ("hospital_code", "desk_phone", "sms_phone", "note")


def load_hospital_desks(session: Session, path: Path) -> int:
    """Set hospitals' desk phones and SMS numbers from ``path``; returns the rows with a number.

    Every row is checked first (a known hospital, a valid number, a mobile for SMS); one bad
    row refuses the file with its row and column, and nothing is written.
    """
    path = Path(path)
    if not path.exists():
        return 0
    hospitals = {h.code: h for h in session.scalars(select(Hospital))}
    numbers = _read_desks(path, set(hospitals))
    for code, (desk, sms) in numbers.items():
        # An empty cell leaves the number as it is: the shipped file has no numbers, and
        # running `init` on a deploy must not wipe numbers an administrator entered.
        if desk:
            hospitals[code].desk_phone = desk
        if sms:
            hospitals[code].sms_phone = sms
    session.flush()
    return sum(1 for desk, sms in numbers.values() if desk or sms)


def _read_desks(path: Path, known: set[str]) -> dict[str, tuple[str | None, str | None]]:
    numbers: dict[str, tuple[str | None, str | None]] = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in DESK_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path.name}: missing column(s) {', '.join(map(repr, missing))}")
        for row, cells in enumerate(reader, start=1):
            where = f"{path.name} row {row} (line {reader.line_num})"
            if None in cells:
                raise ValueError(f"{where}: more cells than the header has")
            code = (cells["hospital_code"] or "").strip()
            if code not in known:
                raise ValueError(f"{where}, column 'hospital_code': {code!r} is not a hospital code in hospitals.csv")
            if code in numbers:
                raise ValueError(f"{where}, column 'hospital_code': {code!r} is listed twice")
            desk, sms = (_phone(cells[column], where, column) for column in ("desk_phone", "sms_phone"))
            if sms and not is_mobile(sms):
                raise ValueError(f"{where}, column 'sms_phone': {sms} is not a mobile number, an SMS cannot reach it")
            numbers[code] = (desk, sms)
    return numbers


def _phone(cell: str | None, where: str, column: str) -> str | None:
    text = unicodedata.normalize("NFC", (cell or "").strip())
    if not text:
        return None
    try:
        return normalise_phone(text, column)
    except ValidationFailed:
        raise ValueError(f"{where}, column {column!r}: {text!r} is not a valid phone number") from None
