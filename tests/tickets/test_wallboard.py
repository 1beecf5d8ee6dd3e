"""The supervisor wallboard's figures on a small fixed data set, each worked out by hand.

All times are local (Asia/Ho_Chi_Minh, UTC+7). "Now" is Wednesday 2 December 2026, 09:00;
"today" began at 00:00 local, which is 17:00 UTC on 1 December, so a call at 00:05 local is
dated 1 December in UTC and still counts as today's. Contact points: A = SO_TNMT,
B = SO_XAYDUNG, C = SO_GTVT; hospitals: H = BVDK_TINH, H2 = BV_QD4.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.factories import make_user
from tickets import wallboard
from tickets.calls import Call
from tickets.codes import new_code
from tickets.directory import ContactPoint, Hospital
from tickets.errors import Forbidden
from tickets.models import Ticket
from tickets.sla import SlaClock

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    """A local moment in 2026."""
    return datetime(2026, mo, d, h, mi, s, tzinfo=VN)


NOW = at(12, 2, 9)


@dataclass
class Data:
    ids: dict[str, int]
    supervisor: object


class Builder:
    def __init__(self, session):
        self.session = session
        self.ids: dict[str, int] = {}
        self.cp = {c: session.scalar(select(ContactPoint.id).where(ContactPoint.code == c))
                   for c in ("SO_TNMT", "SO_XAYDUNG", "SO_GTVT")}
        self.h = {c: session.scalar(select(Hospital.id).where(Hospital.code == c)) for c in ("BVDK_TINH", "BV_QD4")}

    def ticket(self, name: str, created: datetime, status: str, *, line: str = "1022", cp: str | None = None,
               hospital: str | None = None, accepted: datetime | None = None, satisfaction: int | None = None,
               waiting: bool = False) -> Ticket:
        t = Ticket(code=new_code(), line=line, channel="phone", status=status,
                   priority="emergency" if line == "115" else "normal", description=f"ticket {name}",
                   contact_point_id=self.cp[cp] if cp else None, hospital_id=self.h[hospital] if hospital else None,
                   created_at=created, updated_at=created, accepted_at=accepted, satisfaction=satisfaction,
                   waiting_on_caller=waiting)
        self.session.add(t)
        self.session.flush()
        self.ids[name] = t.id
        return t

    def clock(self, t: Ticket, clock: str, *, due: datetime | None, warn: datetime | None = None,
              warned: datetime | None = None, stopped: datetime | None = None, met: bool | None = None,
              elapsed: float | None = None, breached: datetime | None = None, paused: bool = False) -> None:
        self.session.add(SlaClock(
            ticket_id=t.id, clock=clock, business_hours=t.line == "1022", target_seconds=14400,
            started_at=t.created_at, due_at=None if paused else due, warn_at=None if paused else warn,
            paused_at=t.created_at if paused else None, remaining_seconds=600 if paused else None,
            warned_at=warned, stopped_at=stopped, met=met, elapsed_seconds=elapsed, breached_at=breached))

    def call(self, t: Ticket, started: datetime, *, line: str = "1022", status: str = "completed",
             queue: int | None = None, answered: bool = False, ended: bool = True, voicemail: bool = False) -> None:
        answered_at = started + timedelta(seconds=queue or 0) if answered else None
        self.session.add(Call(
            sid=f"CA{new_code()}", ticket_id=t.id, line=line, from_number="+84912345678", to_number="+842741022",
            status=status, started_at=started, answered_at=answered_at,
            ended_at=started + timedelta(minutes=1) if ended else None, queue_time=queue, voicemail=voicemail))


def build(session) -> Data:
    b = Builder(session)
    # ---- open tickets ------------------------------------------------------------------------
    o1 = b.ticket("o1", at(12, 2, 8, 30), "new")  # routed nowhere yet
    b.clock(o1, "resolution", due=at(12, 9, 17))
    o2 = b.ticket("o2", at(12, 1, 10), "assigned", cp="SO_TNMT")
    b.clock(o2, "first_response", due=at(12, 2, 10), warn=at(12, 2, 8), warned=at(12, 2, 8, 0, 10))  # at risk
    b.clock(o2, "resolution", due=at(12, 8, 17), warn=at(12, 7, 9))
    o3 = b.ticket("o3", at(12, 1, 14), "assigned", cp="SO_TNMT")
    b.clock(o3, "first_response", due=at(12, 2, 9, 30), warn=at(12, 2, 8, 45))  # warning time passed, not swept
    o4 = b.ticket("o4", at(11, 20, 9), "in_progress", cp="SO_TNMT")
    b.clock(o4, "first_response", due=at(11, 20, 14), stopped=at(11, 20, 16), met=False, elapsed=21600)  # late
    b.clock(o4, "resolution", due=at(12, 4, 17), warn=at(12, 1, 9), warned=at(12, 1, 9))
    o5 = b.ticket("o5", at(12, 1, 8), "assigned", cp="SO_XAYDUNG")
    b.clock(o5, "first_response", due=at(12, 2, 8, 40), warn=at(12, 1, 16))  # past due, the sweep not yet run
    o6 = b.ticket("o6", at(11, 30, 9), "in_progress", cp="SO_XAYDUNG")
    b.clock(o6, "resolution", due=at(12, 1, 17), warn=at(11, 30, 16), warned=at(11, 30, 16),
            breached=at(12, 1, 17, 0, 10))
    o7 = b.ticket("o7", at(12, 2, 8), "assigned", cp="SO_XAYDUNG")
    b.clock(o7, "first_response", due=at(12, 2, 12), warn=at(12, 2, 11))  # fine
    o8 = b.ticket("o8", at(12, 2, 8, 59, 30), "assigned", line="115", hospital="BVDK_TINH")
    b.clock(o8, "acknowledgement", due=at(12, 2, 9, 0, 30), warn=at(12, 2, 9))  # 30 s left
    o9 = b.ticket("o9", at(12, 2, 0, 5), "in_progress", line="115", hospital="BV_QD4", accepted=at(12, 2, 0, 6, 10))
    b.clock(o9, "acknowledgement", due=at(12, 2, 0, 6), stopped=at(12, 2, 0, 6, 10), met=False, elapsed=70)
    o10 = b.ticket("o10", at(12, 1, 15), "assigned", cp="SO_TNMT", waiting=True)
    b.clock(o10, "first_response", due=None, paused=True)  # waiting for the caller
    b.ticket("o11", at(11, 28, 10), "assigned", cp="SO_GTVT")
    # ---- done tickets --------------------------------------------------------------------------
    d1 = b.ticket("d1", at(12, 1, 8), "resolved", cp="SO_TNMT", satisfaction=1)
    b.clock(d1, "first_response", due=at(12, 1, 9), stopped=at(12, 1, 10), met=False, elapsed=7200)  # not open
    b.clock(d1, "resolution", due=at(12, 5, 17), stopped=at(12, 1, 11), met=True, elapsed=3600)
    d2 = b.ticket("d2", at(12, 2, 0, 40), "resolved", line="115", hospital="BVDK_TINH", accepted=at(12, 2, 0, 40, 45))
    b.clock(d2, "acknowledgement", due=at(12, 2, 0, 41), stopped=at(12, 2, 0, 40, 45), met=True, elapsed=45)
    b.clock(d2, "resolution", due=at(12, 2, 2, 40), stopped=at(12, 2, 1, 30), met=True, elapsed=3000)
    d3 = b.ticket("d3", at(12, 1, 23, 58), "closed", line="115", hospital="BVDK_TINH", accepted=at(12, 2, 0, 0, 20))
    b.clock(d3, "acknowledgement", due=at(12, 1, 23, 59), stopped=at(12, 2, 0, 0, 20), met=False, elapsed=80)
    d4 = b.ticket("d4", at(12, 2, 7), "resolved", line="115", hospital="BVDK_TINH", accepted=at(12, 2, 7, 2))
    b.clock(d4, "acknowledgement", due=at(12, 2, 7, 1), stopped=at(12, 2, 7, 2), met=False, elapsed=120)
    b.clock(d4, "resolution", due=at(12, 2, 9), stopped=at(12, 2, 8), met=True, elapsed=3600)
    e1 = b.ticket("e1", at(11, 10, 9), "resolved", cp="SO_TNMT", satisfaction=2)
    b.clock(e1, "resolution", due=at(11, 17, 9), stopped=at(11, 20, 9), met=False, elapsed=200000)
    e2 = b.ticket("e2", at(11, 15, 9), "closed", cp="SO_XAYDUNG", satisfaction=1)
    b.clock(e2, "first_response", due=at(11, 16, 9), stopped=at(11, 16, 8), met=True, elapsed=600)
    b.clock(e2, "resolution", due=at(11, 20, 9), stopped=at(11, 17, 9), met=True, elapsed=5000)
    e3 = b.ticket("e3", at(11, 28, 9), "resolved", cp="SO_XAYDUNG", satisfaction=1)
    b.clock(e3, "resolution", due=at(11, 30, 9), stopped=at(12, 1, 9), met=False, elapsed=180000)
    e4 = b.ticket("e4", at(10, 1, 9), "closed", cp="SO_TNMT", satisfaction=1)  # older than 30 days
    b.clock(e4, "resolution", due=at(10, 3, 9), stopped=at(10, 2, 9), met=True, elapsed=900)
    # ---- calls (a closed ticket holds the ones whose ticket does not matter here) -------------
    holder = b.ticket("holder", at(10, 1, 8), "closed")
    b.call(holder, at(12, 1, 23, 50), queue=5, answered=True)  # yesterday, ten minutes before midnight
    b.call(o9, at(12, 2, 0, 5), line="115", queue=3, answered=True)  # today (1 Dec 17:05 UTC)
    b.call(d2, at(12, 2, 0, 40), line="115", queue=20, answered=True)
    b.call(holder, at(12, 2, 6, 30), status="ringing", ended=False)  # no final status for 2.5 h: lost
    b.call(holder, at(12, 2, 7, 10))  # abandoned
    b.call(holder, at(12, 2, 7, 30), voicemail=True)  # left a voicemail: not abandoned
    b.call(holder, at(12, 2, 8, 15), queue=15, answered=True)  # exactly 15 s: within
    b.call(holder, at(12, 2, 8, 20), queue=16, answered=True)
    b.call(holder, at(12, 2, 8, 50), status="in-progress", queue=12, answered=True, ended=False)
    b.call(holder, at(12, 2, 8, 56), status="ringing", ended=False)  # waiting 4 minutes
    b.call(holder, at(12, 2, 8, 57), status="ringing", ended=False, voicemail=True)  # recording a message
    b.call(o8, at(12, 2, 8, 58, 30), line="115", status="queued", ended=False)  # waiting 90 s
    # the same weekday last week, and its neighbours
    b.call(holder, at(11, 24, 23, 59))
    b.call(holder, at(11, 25, 0, 30))
    b.call(holder, at(11, 25, 8, 10))
    b.call(holder, at(11, 25, 8, 45))
    b.call(holder, at(11, 25, 23, 59))
    b.call(holder, at(11, 26, 0, 0))
    session.commit()
    # ---- people on the phones --------------------------------------------------------------------
    for name, role, on, active in (("op1", "operator", True, True), ("op2", "operator", True, True),
                                   ("op3", "operator", False, True), ("op4", "operator", True, False),
                                   ("disp1", "dispatcher", True, True), ("disp2", "dispatcher", False, True)):
        user = make_user(session, role, username=name)
        user.on_duty, user.active = on, active
    supervisor = make_user(session, "supervisor", username="sup")
    supervisor.on_duty = True
    session.commit()
    return Data(b.ids, supervisor)


@pytest.fixture
def data(session) -> Data:
    return build(session)


@pytest.fixture
def board(session, data) -> wallboard.Wallboard:
    return wallboard.wallboard(session, data.supervisor, NOW)


def test_today_is_the_local_day_and_times_are_local(board):
    assert board.today == date(2026, 12, 2)
    assert board.generated_at == NOW and board.generated_at.utcoffset() == timedelta(hours=7)
    assert board.timezone == "Asia/Ho_Chi_Minh"


def test_calls_now_per_line_count_unfinished_calls_of_the_last_two_hours(board):
    # 1022: 08:50 (in progress), 08:56 (ringing), 08:57 (recording a voicemail); the 06:30 call
    # with no final status is older than two hours. 115: 08:58:30 (queued).
    lines = {c.line: c for c in board.calls.lines}
    assert (lines["1022"].active, lines["115"].active, board.calls.total.active) == (3, 1, 4)


def test_waiting_counts_unanswered_calls_now_and_the_longest_wait(board):
    # Waiting: 08:56 (1022, 4 min) and 08:58:30 (115, 90 s); the voicemail caller is not waiting.
    lines = {c.line: c for c in board.calls.lines}
    assert (lines["1022"].waiting, lines["1022"].longest_wait_seconds) == (1, 240.0)
    assert (lines["115"].waiting, lines["115"].longest_wait_seconds) == (1, 90.0)
    assert (board.calls.total.waiting, board.calls.total.longest_wait_seconds) == (2, 240.0)


def test_calls_today_start_at_local_midnight_not_utc_midnight(board):
    # 1022 today: 06:30, 07:10, 07:30, 08:15, 08:20, 08:50, 08:56, 08:57 = 8 (not 23:50 yesterday);
    # 115 today: 00:05 and 00:40 (1 Dec in UTC) and 08:58:30 = 3.
    lines = {c.line: c for c in board.calls.lines}
    assert (lines["1022"].today, lines["115"].today, board.calls.total.today) == (8, 3, 11)


def test_answer_time_sla_is_answered_within_15_s_over_answered(board):
    # 1022 answered: 08:15 (15 s), 08:20 (16 s), 08:50 (12 s) → 2 of 3 = 66.7 %.
    # 115 answered: 00:05 (3 s), 00:40 (20 s) → 1 of 2 = 50 %. Both: 3 of 5 = 60 %.
    lines = {c.line: c for c in board.calls.lines}
    assert (lines["1022"].answered, lines["1022"].answered_15s, lines["1022"].answered_15s_pct) == (3, 2, 66.7)
    assert (lines["115"].answered, lines["115"].answered_15s, lines["115"].answered_15s_pct) == (2, 1, 50.0)
    total = board.calls.total
    assert (total.answered, total.answered_15s, total.answered_15s_pct) == (5, 3, 60.0)


def test_abandoned_today_are_ended_unanswered_calls_without_voicemail(board):
    # 07:10 only (07:30 left a voicemail; 06:30 never ended) → 1 of 11 calls = 9.1 %.
    assert (board.calls.total.abandoned, board.calls.total.abandoned_pct) == (1, 9.1)


def test_calls_per_hour_today_and_the_same_weekday_last_week(board):
    today = [0] * 24
    today[0], today[6], today[7], today[8] = 2, 1, 2, 6
    last_week = [0] * 24
    last_week[0], last_week[8], last_week[23] = 1, 2, 1  # not 24 Nov 23:59 nor 26 Nov 00:00
    assert board.hourly.today == today
    assert board.hourly.last_week == last_week
    assert board.hourly.last_week_date == date(2026, 11, 25)


def test_on_duty_counts_active_operators_and_dispatchers_taking_calls(board):
    assert board.on_duty == {"operator": 2, "dispatcher": 1}


def test_open_tickets_by_status_line_and_destination(board):
    assert board.open.total == 11
    assert board.open.by_status == {"new": 1, "assigned": 7, "in_progress": 3}
    assert board.open.by_line == {"1022": 9, "115": 2}
    assert board.open.no_destination == 1
    assert [(c.unit.code, c.count) for c in board.open.by_contact_point] == [
        ("SO_TNMT", 4), ("SO_XAYDUNG", 3), ("SO_GTVT", 1)]
    assert [(c.unit.code, c.count) for c in board.open.by_hospital] == [("BVDK_TINH", 1), ("BV_QD4", 1)]
    assert board.open.by_contact_point[0].unit.short == "Sở Tài nguyên và Môi trường"


def test_open_by_contact_point_keeps_the_top_n_and_sums_the_rest(session, data):
    board = wallboard.wallboard(session, data.supervisor, NOW, top=2)
    assert [(c.unit.code, c.count) for c in board.open.by_contact_point] == [("SO_TNMT", 4), ("SO_XAYDUNG", 3)]
    assert (board.open.other_contact_points, board.open.other_contact_point_count) == (1, 1)


def test_breached_lists_open_tickets_with_a_missed_clock_longest_overdue_first(board, data):
    # o4: first response stopped late (20 Nov 14:00); o6: marked breached (1 Dec 17:00); o9: hospital
    # acknowledged late (00:06); o5: running past due, not swept yet (08:40). d1 was late but is resolved.
    ids = {v: k for k, v in data.ids.items()}
    assert board.breached.total == 4
    assert [(ids[i.ticket_id], i.clocks, i.due_at) for i in board.breached.items] == [
        ("o4", ["first_response"], at(11, 20, 14)), ("o6", ["resolution"], at(12, 1, 17)),
        ("o9", ["acknowledgement"], at(12, 2, 0, 6)), ("o5", ["first_response"], at(12, 2, 8, 40))]
    o9 = board.breached.items[2]
    assert (o9.hospital.code, o9.contact_point, o9.line) == ("BV_QD4", None, "115")


def test_at_risk_lists_warned_clocks_not_yet_due_soonest_first(board, data):
    # o8: 115 acknowledgement due 09:00:30; o3: warning time passed, due 09:30; o2: warned, due 10:00.
    # Not o4 (already breached), o7 (warning at 11:00), o10 (paused while waiting for the caller).
    ids = {v: k for k, v in data.ids.items()}
    assert board.at_risk.total == 3
    assert [(ids[i.ticket_id], i.clocks, i.due_at) for i in board.at_risk.items] == [
        ("o8", ["acknowledgement"], at(12, 2, 9, 0, 30)), ("o3", ["first_response"], at(12, 2, 9, 30)),
        ("o2", ["first_response"], at(12, 2, 10))]
    assert board.at_risk.items[1].contact_point.code == "SO_TNMT"


def test_lists_are_cut_at_the_limit_but_count_everything(session, data):
    board = wallboard.wallboard(session, data.supervisor, NOW, limit=1)
    assert (board.breached.total, len(board.breached.items)) == (4, 1)
    assert (board.at_risk.total, len(board.at_risk.items)) == (3, 1)


def test_per_contact_point_table_worst_first(board):
    # Open / at risk / breached now; resolution on time over 7 days (26 Nov–2 Dec) and 30 days
    # (3 Nov–2 Dec) of created tickets' scored runs; first response 30 days; satisfaction 30 days.
    # A: 7 d d1 met → 100 %; 30 d d1 met, e1 late → 50 %, median (3600 + 200000) / 2 = 101800 s;
    #    first response d1, o4 late → 0 %; surveys d1 "1", e1 "2" → 50 %.
    # B: 7 d e3 late → 0 %; 30 d e2 met, e3 late → 50 %, median (5000 + 180000) / 2 = 92500 s;
    #    first response e2 met → 100 %; surveys e2, e3 "1" → 100 %.
    rows = [(r.unit.code, r.open, r.at_risk, r.breached, r.on_time_7d, r.scored_7d, r.on_time_30d, r.scored_30d,
             r.first_response_30d, r.median_resolution_seconds_30d, r.satisfaction_30d, r.surveys_30d)
            for r in board.contact_points]
    assert rows == [
        ("SO_XAYDUNG", 3, 0, 2, 0.0, 1, 50.0, 2, 100.0, 92500.0, 100.0, 2),
        ("SO_TNMT", 4, 2, 1, 100.0, 1, 50.0, 2, 0.0, 101800.0, 50.0, 2),
        ("SO_GTVT", 1, 0, 0, None, 0, None, 0, None, None, None, 0),
    ]


def test_on_time_and_satisfaction_over_all_lines(board):
    # Resolution 7 d: d1, d2, d4 met, e3 late → 75 %; 30 d adds e1 late, e2 met → 4 of 6 = 66.7 %.
    # First response 30 d: d1, o4 late, e2 met → 33.3 %. Acknowledgement 30 d: d2 met; d3, d4, o9 late → 25 %.
    # Satisfaction 30 d: d1, e2, e3 "1", e1 "2" → 75 % (e4 is older than 30 days).
    assert (board.on_time.resolution_7d, board.on_time.resolution_30d) == (75.0, 66.7)
    assert (board.on_time.first_response_30d, board.on_time.acknowledgement_30d) == (33.3, 25.0)
    assert (board.satisfaction.surveys, board.satisfaction.satisfied, board.satisfaction.pct) == (4, 3, 75.0)


def test_115_call_to_acknowledgement_times_of_today(board, data):
    # Opened today and acknowledged: d2 45 s, o9 70 s, d4 120 s (d3 was opened yesterday at 23:58).
    # Median 70; p90 at rank 1.8: 70 + 0.8 × (120 − 70) = 110. Awaiting: o8.
    ids = {v: k for k, v in data.ids.items()}
    ack = board.ack_115
    assert (ack.count, ack.median_seconds, ack.p90_seconds, ack.awaiting) == (3, 70.0, 110.0, 1)
    assert [(ids[c.ticket_id], c.seconds, c.hospital.code) for c in ack.cases] == [
        ("d4", 120.0, "BVDK_TINH"), ("d2", 45.0, "BVDK_TINH"), ("o9", 70.0, "BV_QD4")]
    assert ack.cases[0].called_at == at(12, 2, 7) and ack.cases[0].acknowledged_at == at(12, 2, 7, 2)


def test_an_empty_day_has_zeros_and_no_percentages(session):
    supervisor = make_user(session, "supervisor", username="sup")
    board = wallboard.wallboard(session, supervisor, NOW)
    assert (board.calls.total.today, board.calls.total.answered_15s_pct, board.calls.total.longest_wait_seconds) == (
        0, None, None)
    assert (board.open.total, board.breached.total, board.at_risk.total) == (0, 0, 0)
    assert (board.ack_115.count, board.ack_115.median_seconds, board.satisfaction.pct) == (0, None, None)
    assert board.hourly.today == [0] * 24 and board.contact_points == []


@pytest.mark.parametrize("role", ["operator", "dispatcher", "staff", "hospital"])
def test_only_supervisors_and_admins_read_the_wallboard(session, role):
    with pytest.raises(Forbidden):
        wallboard.wallboard(session, make_user(session, role), NOW)
    admin = make_user(session, "admin")
    assert wallboard.wallboard(session, admin, NOW).open.total == 0
