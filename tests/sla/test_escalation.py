"""Escalation by rule (data/sla/escalation.csv): the contact point's lead first, then the
supervisors; each step once — when the sweep runs twice, after a missed tick and when two
sweeps race — recorded in history, pushed as ``sla.escalated`` only to those who may hear
it, and sent by SMS to the phone of each person told. A clock that stops or pauses is not
escalated further."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select, text

from app.extensions import socketio
from app.tasks.sla import sweep_sla
from tests.conftest import ROOT
from tests.factories import make_user
from tests.sla.helpers import at, bearer, post, token
from tickets import escalation, sla
from tickets.db import make_session_factory
from tickets.messages import OutboundMessage
from tickets.models import TicketEvent

RULES = ROOT / "data" / "sla" / "escalation.csv"
WED_10 = at(2026, 11, 25, 10)  # a ticket assigned now: first response warns at 15:00, due 16:00
WARNING, BREACH = at(2026, 11, 25, 15), at(2026, 11, 25, 16)


@pytest.fixture
def rules(session, policies) -> Path:
    """The shipped escalation rules in the database."""
    assert escalation.load_rules(session, RULES) == 4
    session.commit()
    return RULES


def _people(session) -> None:
    make_user(session, "operator", username="op")
    make_user(session, "supervisor", username="sup", display_name="Giám sát Hạnh", phone="0903 111 222")
    make_user(session, "supervisor", username="sup2")  # no phone: told on the console only
    make_user(session, "staff", username="lead", contact_point="SO_TNMT", display_name="Trưởng phòng Lan",
              lead=True, phone="0912 345 678")
    make_user(session, "staff", username="tnmt", contact_point="SO_TNMT")
    make_user(session, "staff", username="xd_lead", contact_point="SO_XAYDUNG", lead=True, phone="0987 654 321")


def _sockets(app, client) -> dict:
    return {u: socketio.test_client(app, auth={"token": token(client, u)}) for u in ("sup", "tnmt", "xd_lead", "op")}


def _assigned_ticket(client) -> dict:
    op = bearer(client, "op")
    ticket = post(client, op, "/api/tickets", line="1022", channel="web", description="Cây đổ chắn đường")
    return post(client, op, f"/api/tickets/{ticket['id']}/assign", contact_point="SO_TNMT")


def _sweep(app, times: int = 2) -> None:
    with app.app_context():
        for _ in range(times):
            sweep_sla()


def _escalations(session, ticket_id: int) -> list[tuple]:
    session.expire_all()
    return [(e.data["clock"], e.data["step"], e.data["notify"], e.data["to"], e.data["sms"])
            for e in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id,
                                                              TicketEvent.action == "sla_escalated")
                                     .order_by(TicketEvent.id))]


def _texts(session) -> list[tuple[str, str]]:
    session.expire_all()
    return [(m.to_number, m.body) for m in session.scalars(
        select(OutboundMessage).where(OutboundMessage.kind == "escalation").order_by(OutboundMessage.id))]


def _heard(sock) -> list[tuple]:
    return [(p["clock"], p["step"], p["notify"], p["ticket"]["id"])
            for m in sock.get_received() if m["name"] == "sla.escalated" for p in m["args"]]


def test_the_lead_is_told_at_the_warning_then_the_supervisors_at_the_breach(app, client, session, rules):
    with time_machine.travel(WED_10, tick=False) as traveller:
        _people(session)
        socks = _sockets(app, client)
        ticket = _assigned_ticket(client)
        for sock in socks.values():
            sock.get_received()
        traveller.move_to(at(2026, 11, 25, 14, 59))
        _sweep(app)
        assert _escalations(session, ticket["id"]) == []
        traveller.move_to(WARNING)
        _sweep(app)
        after_warning = (_escalations(session, ticket["id"]), _texts(session),
                         {u: _heard(s) for u, s in socks.items()})
        traveller.move_to(BREACH)
        _sweep(app)
        after_breach = (_escalations(session, ticket["id"]), _texts(session),
                        {u: _heard(s) for u, s in socks.items()})

    lead_step = ("first_response", 1, "lead", ["Trưởng phòng Lan"], 1)
    assert after_warning[0] == [lead_step]
    [(to, body)] = after_warning[1]
    assert to == "+84912345678"  # the lead's phone, in E.164
    assert body.startswith("[SLA] Phản ánh 1022 ") and "sắp quá hạn tiếp nhận (hạn 16:00 25/11)" in body
    heard = after_warning[2]
    assert heard["sup"] == heard["tnmt"] == [("first_response", 1, "lead", ticket["id"])]
    assert heard["xd_lead"] == heard["op"] == []  # another contact point's lead and the operators: nothing

    supervisor_step = ("first_response", 2, "supervisor", ["Giám sát Hạnh", "sup2"], 1)
    assert after_breach[0] == [lead_step, supervisor_step]
    assert [to for to, _ in after_breach[1]] == ["+84912345678", "+84903111222"]
    assert "Sở Tài nguyên và Môi trường" in after_breach[1][1][1]  # the supervisor is told whose it is
    heard = after_breach[2]
    assert heard["sup"] == heard["tnmt"] == [("first_response", 2, "supervisor", ticket["id"])]
    assert heard["xd_lead"] == heard["op"] == []


def test_history_shows_each_step_after_the_mark_that_started_it(app, client, session, rules):
    with time_machine.travel(WED_10, tick=False) as traveller:
        _people(session)
        ticket = _assigned_ticket(client)
        for moment in (WARNING, BREACH):
            traveller.move_to(moment)
            _sweep(app)
        events = client.get(f"/api/tickets/{ticket['id']}/events", headers=bearer(client, "sup")).get_json()
    sla_events = [(e["action"], e["data"].get("clock"), e["data"].get("step")) for e in events
                  if e["action"].startswith("sla_")]
    assert sla_events == [("sla_warning", "first_response", None), ("sla_escalated", "first_response", 1),
                          ("sla_breached", "first_response", None), ("sla_escalated", "first_response", 2)]
    assert {e["actor"] for e in events if e["action"] == "sla_escalated"} == {"SLA"}


def test_after_a_missed_tick_both_steps_are_taken_once_and_in_order(app, client, session, rules):
    with time_machine.travel(WED_10, tick=False) as traveller:
        _people(session)
        ticket = _assigned_ticket(client)
        traveller.move_to(at(2026, 12, 31, 9))  # the sweeper was down for five weeks
        _sweep(app, times=3)
    steps = [(clock, step, notify) for clock, step, notify, _to, _sms in _escalations(session, ticket["id"])]
    # The resolution clock (40 working hours, from creation) has warned and breached too.
    assert sorted(steps) == [("first_response", 1, "lead"), ("first_response", 2, "supervisor"),
                             ("resolution", 1, "lead"), ("resolution", 2, "supervisor")]
    assert [s for s in steps if s[0] == "first_response"] == [("first_response", 1, "lead"),
                                                            ("first_response", 2, "supervisor")]
    assert len(_texts(session)) == 4  # lead, supervisor with a phone; per clock


def test_accepting_the_ticket_stops_its_escalation(app, client, session, rules):
    with time_machine.travel(WED_10, tick=False) as traveller:
        _people(session)
        ticket = _assigned_ticket(client)
        traveller.move_to(WARNING)
        _sweep(app)
        post(client, bearer(client, "tnmt"), f"/api/tickets/{ticket['id']}/accept")
        traveller.move_to(at(2026, 11, 25, 16, 30))
        _sweep(app)
    assert [(c, s) for c, s, *_ in _escalations(session, ticket["id"])] == [("first_response", 1)]
    assert len(_texts(session)) == 1


def test_a_paused_clock_is_not_escalated_and_carries_on_once_resumed(app, client, session, rules):
    with time_machine.travel(WED_10, tick=False) as traveller:
        _people(session)
        ticket = _assigned_ticket(client)
        traveller.move_to(WARNING)
        _sweep(app)  # the lead is told
        staff = bearer(client, "tnmt")
        post(client, staff, f"/api/tickets/{ticket['id']}/ask-caller", question="Cây đổ ở số nhà nào?")
        traveller.move_to(at(2026, 11, 27, 9))
        _sweep(app)
        while_paused = _escalations(session, ticket["id"])
        post(client, staff, f"/api/tickets/{ticket['id']}/resume", reason="Đã gọi được")  # 1 h left: due 10:00
        traveller.move_to(at(2026, 11, 27, 10))
        _sweep(app)
    assert [(c, s) for c, s, *_ in while_paused] == [("first_response", 1)]
    assert [(c, s) for c, s, *_ in _escalations(session, ticket["id"])] == [("first_response", 1),
                                                                           ("first_response", 2)]


def test_a_115_case_escalates_to_the_hospital_lead(app, client, session, rules):
    with time_machine.travel(WED_10, tick=False) as traveller:
        make_user(session, "dispatcher", username="disp")
        make_user(session, "supervisor", username="sup")
        make_user(session, "hospital", username="bv_lead", hospital="BVDK_TINH", lead=True, phone="0977 000 115")
        make_user(session, "hospital", username="bv_other", hospital="BV_QD4")
        socks = {u: socketio.test_client(app, auth={"token": token(client, u)}) for u in ("bv_lead", "bv_other")}
        disp = bearer(client, "disp")
        case = post(client, disp, "/api/tickets", line="115", channel="phone", description="Ngã cầu thang")
        post(client, disp, f"/api/tickets/{case['id']}/assign", hospital="BVDK_TINH")
        post(client, bearer(client, "bv_lead"), f"/api/tickets/{case['id']}/accept")
        for sock in socks.values():
            sock.get_received()
        traveller.move_to(at(2026, 11, 25, 11, 30))  # resolution: 2 h around the clock, warning at 75 %
        _sweep(app)
        heard = {u: _heard(s) for u, s in socks.items()}
    assert [(c, s, n, to) for c, s, n, to, _sms in _escalations(session, case["id"])] == [
        ("resolution", 1, "lead", ["bv_lead"])]
    [(to, body)] = _texts(session)
    assert to == "+84977000115" and body.startswith("[SLA] Ca cấp cứu 115 ")
    assert heard == {"bv_lead": [("resolution", 1, "lead", case["id"])], "bv_other": []}


def test_a_lead_without_a_phone_is_told_on_the_console_only(app, client, session, rules):
    with time_machine.travel(WED_10, tick=False) as traveller:
        make_user(session, "operator", username="op")
        make_user(session, "staff", username="lead", contact_point="SO_TNMT", lead=True)
        ticket = _assigned_ticket(client)
        traveller.move_to(WARNING)
        _sweep(app)
    assert _escalations(session, ticket["id"]) == [("first_response", 1, "lead", ["lead"], 0)]
    assert _texts(session) == []


def test_a_delay_holds_a_step_back_after_its_trigger(app, client, session, policies, tmp_path):
    rules = tmp_path / "escalation.csv"
    rules.write_text("clock,step,trigger,delay,notify,name\n"
                     "first_response,1,breached,,lead,at the breach\n"
                     "first_response,2,breached,30m,supervisor,half an hour later if still not accepted\n",
                     encoding="utf-8")
    escalation.load_rules(session, rules)
    session.commit()
    with time_machine.travel(WED_10, tick=False) as traveller:
        _people(session)
        ticket = _assigned_ticket(client)
        steps = []
        for moment in (WARNING, BREACH, at(2026, 11, 25, 16, 29), at(2026, 11, 25, 16, 30)):
            traveller.move_to(moment)
            _sweep(app)
            steps.append([(c, s) for c, s, *_ in _escalations(session, ticket["id"])])
    assert steps == [[], [("first_response", 1)], [("first_response", 1)],
                     [("first_response", 1), ("first_response", 2)]]


def _tickets_due(client, session, n: int) -> list[int]:
    with time_machine.travel(WED_10, tick=False):
        _people(session)
        return [_assigned_ticket(client)["id"] for _ in range(n)]


def _waiting_on_locks(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                " AND datname = current_database()"))


@pytest.mark.postgresql_only
def test_two_sweeps_racing_take_each_step_once(app, client, session, engine, rules):
    _tickets_due(client, session, 3)
    later = at(2026, 11, 25, 16)
    factory = make_session_factory(engine)
    first, second = factory(), factory()
    try:
        sla.sweep(first, later)
        won = escalation.escalate(first, later)  # holds its row locks, not committed yet
        assert sum(isinstance(e, escalation.SlaEscalated) for e in won) == 6  # 3 tickets x (lead, supervisor)
        lost: list = []

        def race() -> None:
            sla.sweep(second, later)
            lost.extend(escalation.escalate(second, later))

        racer = threading.Thread(target=race)
        racer.start()
        deadline = time.monotonic() + 10
        while _waiting_on_locks(engine) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _waiting_on_locks(engine) == 1
        first.commit()
        racer.join(10)
        second.commit()
        assert lost == []
    finally:
        first.close()
        second.close()
    with engine.connect() as conn:
        steps = conn.execute(text("SELECT data->>'step', count(*) FROM ticket_events WHERE action = 'sla_escalated'"
                                  " GROUP BY 1 ORDER BY 1")).all()
        texts = conn.scalar(text("SELECT count(*) FROM outbound_messages WHERE kind = 'escalation'"))
    assert [tuple(r) for r in steps] == [("1", 3), ("2", 3)]
    assert texts == 6  # the lead's and one supervisor's phone, per ticket


@pytest.mark.postgresql_only
def test_four_sweep_jobs_at_once_take_each_step_once(app, client, session, engine, rules):
    _tickets_due(client, session, 4)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def job() -> None:
        try:
            with app.app_context():
                start.wait(10)
                sweep_sla()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(4)]
    with time_machine.travel(at(2026, 11, 25, 16), tick=False):
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert errors == []
    with engine.connect() as conn:
        per_step = conn.execute(text(
            "SELECT ticket_id, data->>'clock', data->>'step', count(*) FROM ticket_events"
            " WHERE action = 'sla_escalated' GROUP BY 1, 2, 3")).all()
    assert sorted(n for *_, n in per_step) == [1] * 8  # 4 tickets x 2 steps, each once


# ---- the rules file ----------------------------------------------------------------------

@pytest.mark.parametrize(("rows", "says"), [
    ("first_response,1,breached,,supervisor,\nfirst_response,2,breached,1h,lead,\n", "lead after the supervisor"),
    ("first_response,1,breached,,lead,\nfirst_response,2,warning,,supervisor,\n", "before the step ahead"),
    ("first_response,1,warning,,lead,\nfirst_response,3,breached,,supervisor,\n", "numbered 1, 2"),
    ("first_response,1,overdue,,lead,\n", "line 2, column 'trigger'"),
    ("first_response,1,warning,,director,\n", "line 2, column 'notify'"),
    ("answer,1,warning,,lead,\n", "line 2, column 'clock'"),
    ("first_response,1,warning,soon,lead,\n", "line 2, column 'step/delay'"),
])
def test_a_rules_file_out_of_order_or_with_unknown_values_is_refused(tmp_path, rows, says):
    path = tmp_path / "escalation.csv"
    path.write_text("clock,step,trigger,delay,notify,name\n" + rows, encoding="utf-8")
    with pytest.raises(ValueError, match=says):
        escalation.read_rules(path)


def test_loading_the_rules_again_changes_nothing_and_a_removed_step_goes(session, tmp_path):
    assert escalation.load_rules(session, RULES) == 4
    assert escalation.load_rules(session, RULES) == 4
    shorter = tmp_path / "escalation.csv"
    shorter.write_text("clock,step,trigger,delay,notify,name\nresolution,1,breached,2h,supervisor,late\n",
                       encoding="utf-8")
    assert escalation.load_rules(session, shorter) == 1
    [rule] = session.scalars(select(escalation.EscalationRule))
    assert (rule.clock, rule.step, rule.trigger, rule.delay_seconds, rule.notify) == (
        "resolution", 1, "breached", 7200, "supervisor")


# ---- leads and phones on accounts -----------------------------------------------------------

def test_users_create_sets_a_lead_and_their_mobile(runner, session):
    result = runner.invoke(args=["users", "create", "lan", "--role", "staff", "--contact-point", "SO_TNMT",
                                 "--password", "correct-horse-1", "--lead", "--phone", "0912 345 678"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["users", "create", "lan", "--role", "staff", "--contact-point", "SO_TNMT",
                                "--password", "correct-horse-2"])  # neither option: both kept
    assert again.exit_code == 0, again.output
    session.expire_all()
    rows = session.execute(text("SELECT is_lead, phone FROM users WHERE username = 'lan'")).one()
    assert (bool(rows[0]), rows[1]) == (True, "+84912345678")
    dropped = runner.invoke(args=["users", "create", "lan", "--role", "staff", "--contact-point", "SO_TNMT",
                                  "--password", "correct-horse-2", "--no-lead", "--phone", ""])
    assert dropped.exit_code == 0, dropped.output
    session.expire_all()
    rows = session.execute(text("SELECT is_lead, phone FROM users WHERE username = 'lan'")).one()
    assert (bool(rows[0]), rows[1]) == (False, None)


@pytest.mark.parametrize(("args", "says"), [
    (["--role", "operator", "--lead"], "lead"),
    (["--role", "supervisor", "--phone", "0274 3822 222"], "phone"),  # a landline: no SMS reaches it
    (["--role", "supervisor", "--phone", "12345"], "phone"),
])
def test_users_create_refuses_a_lead_outside_a_unit_and_a_number_sms_cannot_reach(runner, session, args, says):
    result = runner.invoke(args=["users", "create", "x", *args, "--password", "correct-horse-1"])
    assert result.exit_code != 0
    assert says in result.output
    assert session.execute(text("SELECT count(*) FROM users")).scalar() == 0
