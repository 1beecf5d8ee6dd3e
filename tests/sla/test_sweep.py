"""The sweep job: a warning and a breach are each recorded and published exactly once —
when the job runs twice, after a missed tick, and when two sweeps race on PostgreSQL — and
only to the consoles allowed to read the ticket."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import time_machine
from sqlalchemy import text

from app.extensions import socketio
from app.tasks.sla import sweep_sla
from tests.factories import make_user
from tests.sla.helpers import at, bearer, history, iso, post, token
from tickets import sla
from tickets.db import make_session_factory

WED_10 = at(2026, 11, 25, 10)


def _consoles(app, client, session) -> dict:
    make_user(session, "operator", username="op")
    make_user(session, "supervisor", username="sup")
    make_user(session, "staff", username="tnmt", contact_point="SO_TNMT")
    make_user(session, "staff", username="xd", contact_point="SO_XAYDUNG")
    return {u: socketio.test_client(app, auth={"token": token(client, u)}) for u in ("sup", "tnmt", "xd")}


def _assigned_ticket(client) -> dict:
    op = bearer(client, "op")
    ticket = post(client, op, "/api/tickets", line="1022", channel="web", description="Cây đổ chắn đường")
    return post(client, op, f"/api/tickets/{ticket['id']}/assign", contact_point="SO_TNMT")


def _sla_messages(sock) -> list[tuple[str, dict]]:
    return [(m["name"], m["args"][0]) for m in sock.get_received() if m["name"].startswith("sla.")]


def _sweep_twice(app) -> list[int]:
    with app.app_context():
        return [sweep_sla(), sweep_sla()]


def test_a_warning_and_a_breach_are_each_published_once_to_those_who_may_read(app, client, session,
                                                                               policies):
    with time_machine.travel(WED_10, tick=False) as traveller:
        socks = _consoles(app, client, session)
        ticket = _assigned_ticket(client)  # first response due 16:00, warning at 15:00
        for sock in socks.values():
            sock.get_received()

        traveller.move_to(at(2026, 11, 25, 14, 59))
        assert _sweep_twice(app) == [0, 0]
        traveller.move_to(at(2026, 11, 25, 15))
        assert _sweep_twice(app) == [1, 0]
        warned = {u: _sla_messages(s) for u, s in socks.items()}
        traveller.move_to(at(2026, 11, 25, 16))
        assert _sweep_twice(app) == [1, 0]
        breached = {u: _sla_messages(s) for u, s in socks.items()}

    for user in ("sup", "tnmt"):
        [(name, payload)] = warned[user]
        assert (name, payload["clock"], payload["due"]) == ("sla.warning", "first_response",
                                                            iso(at(2026, 11, 25, 16)))
        assert (payload["ticket"]["id"], payload["ticket"]["sla_state"]) == (ticket["id"], "warning")
        [(name, payload)] = breached[user]
        assert (name, payload["clock"], payload["ticket"]["sla_state"]) == ("sla.breached", "first_response",
                                                                          "breached")
    assert warned["xd"] == breached["xd"] == []  # another department's staff hears nothing
    assert Counter(history(session, ticket["id"]))["sla_warning"] == 1
    assert Counter(history(session, ticket["id"]))["sla_breached"] == 1


def test_after_a_missed_tick_both_warning_and_breach_are_recorded_once_per_clock(app, client, session,
                                                                                policies):
    with time_machine.travel(WED_10, tick=False) as traveller:
        socks = _consoles(app, client, session)
        ticket = _assigned_ticket(client)
        socks["sup"].get_received()
        traveller.move_to(at(2026, 12, 31, 9))  # the sweeper was down for five weeks
        assert _sweep_twice(app) == [4, 0]
        got = Counter((name, p["clock"]) for name, p in _sla_messages(socks["sup"]))
        state = client.get(f"/api/tickets/{ticket['id']}", headers=bearer(client, "sup")).get_json()

    assert got == {("sla.warning", "first_response"): 1, ("sla.warning", "resolution"): 1,
                   ("sla.breached", "first_response"): 1, ("sla.breached", "resolution"): 1}
    actions = Counter(history(session, ticket["id"]))
    assert (actions["sla_warning"], actions["sla_breached"]) == (2, 2)
    assert state["sla_state"] == "breached"


def test_a_paused_clock_neither_warns_nor_breaches(app, client, session, policies):
    with time_machine.travel(WED_10, tick=False) as traveller:
        _consoles(app, client, session)
        ticket = _assigned_ticket(client)
        post(client, bearer(client, "tnmt"), f"/api/tickets/{ticket['id']}/ask-caller", question="Ở đâu?")
        traveller.move_to(at(2026, 12, 31, 9))
        assert _sweep_twice(app) == [0, 0]


def _tickets_due(app, client, session, n: int) -> None:
    with time_machine.travel(WED_10, tick=False):
        make_user(session, "operator", username="op")
        for _ in range(n):
            _assigned_ticket(client)


def _waiting_on_locks(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                " AND datname = current_database()"))


@pytest.mark.postgresql_only
def test_a_sweep_racing_another_waits_for_it_and_reports_nothing_twice(app, client, session, engine,
                                                                     policies):
    _tickets_due(app, client, session, 3)
    later = at(2026, 12, 31, 9)
    factory = make_session_factory(engine)
    first, second = factory(), factory()
    try:
        won = sla.sweep(first, later)  # holds its row locks, not committed yet
        assert len(won) == 12
        lost: list = []
        racer = threading.Thread(target=lambda: lost.extend(sla.sweep(second, later)))
        racer.start()
        deadline = time.monotonic() + 10
        while _waiting_on_locks(engine) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _waiting_on_locks(engine) == 1  # the second sweep is blocked on the first's rows
        first.commit()
        racer.join(10)
        second.commit()
        assert lost == []
    finally:
        first.close()
        second.close()
    with engine.connect() as conn:
        counts = conn.execute(text("SELECT action, count(*) FROM ticket_events WHERE action LIKE 'sla_%'"
                                   " GROUP BY action ORDER BY action")).all()
    assert [tuple(r) for r in counts] == [("sla_breached", 6), ("sla_warning", 6)]


@pytest.mark.postgresql_only
def test_four_sweep_jobs_at_once_record_each_alert_once(app, client, session, engine, policies):
    _tickets_due(app, client, session, 5)
    start = threading.Barrier(4)
    totals: list[int] = []
    errors: list[BaseException] = []

    def job() -> None:
        try:
            with app.app_context():
                start.wait(10)
                totals.append(sweep_sla())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(4)]
    with time_machine.travel(at(2026, 12, 31, 9), tick=False):  # patches the clock for every thread
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert errors == []
    assert sum(totals) == 20  # 5 tickets x 2 clocks x (warning + breach), whoever won each
    with engine.connect() as conn:
        per_clock = conn.execute(text(
            "SELECT count(*) FROM (SELECT ticket_id, action, data->>'clock' FROM ticket_events"
            " WHERE action LIKE 'sla_%' GROUP BY 1, 2, 3 HAVING count(*) > 1) dup")).scalar()
        total = conn.scalar(text("SELECT count(*) FROM ticket_events WHERE action LIKE 'sla_%'"))
    assert (per_clock, total) == (0, 20)
