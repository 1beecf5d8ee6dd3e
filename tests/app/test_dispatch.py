"""115 acknowledgement deadlines: a hospital that stays silent past DISPATCH_ACK_SECONDS loses
the patient to the next nearest suitable hospital, the dispatchers hear of it, a late
acknowledgement changes nothing, and repeated silence brings a person in.

The clock is moved with time-machine (the app reads it through tickets.db.utcnow); the
in-process job runner runs what is due, and one test goes through RQ on a real Redis.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
import time_machine
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm.exc import StaleDataError

from app import router
from app.extensions import socketio
from tests.factories import PASSWORD, make_user
from tickets.directory import Hospital
from tickets.models import Ticket, TicketEvent

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 in Bình Dương
ACK = 60
AT_BVDK_TINH = {"lat": 10.995089, "lon": 106.657617}
# Emergency hospitals by travel time from there (routing.hospitals.rank).
NEAREST = ["BVDK_TINH", "BV_VANPHUC1", "BV_COLUMBIA_BD", "BV_NAMANH"]
# Not 9-14 (tests/telephony/test_outbox.py, one per xdist worker) nor 15 (benchmarks).
REDIS_URL = "redis://127.0.0.1:6379/7"


# ---- apps, people, clock -----------------------------------------------------------------

def build_app(database_url: str, **overrides):
    from app import create_app

    socketio.server_options.pop("client_manager", None)
    return create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t",
                       "WTF_CSRF_ENABLED": False, "REDIS_URL": None, "DISPATCH_ACK_SECONDS": ACK,
                       **overrides})


@pytest.fixture
def dapp(database_url, session) -> Iterator:
    """The app with the in-process job runner (no REDIS_URL); tables emptied after by ``session``."""
    application = build_app(database_url)
    yield application
    application.extensions["database"].engine.dispose()


@pytest.fixture(autouse=True)
def _hospitals_left_available(engine) -> Iterator[None]:
    yield
    with engine.begin() as conn:
        conn.execute(update(Hospital).where(Hospital.available.is_(False)).values(available=True))
    router.forget_snapshot()


@pytest.fixture(autouse=True)
def _no_job_fails_silently(caplog) -> Iterator[None]:
    """The in-process runner logs a failing job and retries it later: here that is a failure."""
    yield
    failures = [r for r in caplog.get_records("call")
                if r.name in ("app.jobs", "app.publisher", "app.router") and r.levelno >= logging.ERROR]
    assert not failures, [r.getMessage() for r in failures]


@pytest.fixture
def clock() -> Iterator:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def run_jobs_at(application, clock, seconds: float) -> None:
    """Move the clock to T0 + seconds and run whatever in-process job is due by then."""
    clock.move_to(at(seconds))
    application.extensions["jobs"].run_due(now=at(seconds).timestamp())


def bearer(application, username: str) -> dict[str, str]:
    response = application.test_client().post("/api/auth/token",
                                              json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def console(application, username: str):
    token = bearer(application, username)["Authorization"].removeprefix("Bearer ")
    sock = socketio.test_client(application, auth={"token": token})
    assert sock.is_connected()
    return sock


def received(sock, name: str) -> list[dict]:
    return [m["args"][0] for m in sock.get_received() if m["name"] == name]


@pytest.fixture
def people(session, clock) -> None:
    make_user(session, "dispatcher", username="disp")
    make_user(session, "supervisor", username="sup")
    for i, code in enumerate(NEAREST, start=1):
        make_user(session, "hospital", username=f"bv{i}", hospital=code)


def dispatch(application, lat: float = AT_BVDK_TINH["lat"], lon: float = AT_BVDK_TINH["lon"]) -> dict:
    """A dispatcher opens a 115 ticket with the caller's location: dispatched at once."""
    response = application.test_client().post("/api/tickets", headers=bearer(application, "disp"), json={
        "line": "115", "channel": "phone", "description": "Tai nạn giao thông, chấn thương đầu",
        "lat": lat, "lon": lon})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def fresh(session, ticket_id: int) -> Ticket:
    session.rollback()
    session.expire_all()
    return session.get(Ticket, ticket_id)


def events(session, ticket_id: int, action: str | None = None) -> list[TicketEvent]:
    session.rollback()
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    if action:
        stmt = stmt.where(TicketEvent.action == action)
    return list(session.scalars(stmt))


def dispatched_to(session, ticket_id: int) -> list[str]:
    return [e.data["hospital"] for e in events(session, ticket_id, "assign")]


def mark_full(engine, *codes: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(Hospital).where(Hospital.code.in_(codes)).values(available=False))
    router.forget_snapshot()


# ---- the deadline ------------------------------------------------------------------------

def test_a_silent_hospital_loses_the_patient_to_the_next_nearest_at_the_deadline(dapp, clock, people, session):
    disp = console(dapp, "disp")
    ticket = dispatch(dapp)
    assert ticket["hospital"]["code"] == "BVDK_TINH"
    disp.get_received()

    run_jobs_at(dapp, clock, ACK - 1)  # a second before the deadline: nothing
    assert fresh(session, ticket["id"]).hospital.code == "BVDK_TINH"
    assert dispatched_to(session, ticket["id"]) == ["BVDK_TINH"]
    assert received(disp, "dispatch.escalated") == []

    run_jobs_at(dapp, clock, ACK + 1)

    now = fresh(session, ticket["id"])
    assert (now.status, now.hospital.code) == ("assigned", "BV_VANPHUC1")
    assert now.assigned_at == at(ACK + 1) and now.accepted_at is None
    assert dispatched_to(session, ticket["id"]) == ["BVDK_TINH", "BV_VANPHUC1"]
    second = events(session, ticket["id"], "assign")[-1]
    assert second.actor_label == "Điều phối tự động 115"
    assert second.data["previous"] == {"hospital": "BVDK_TINH"}
    assert f"{ACK} giây" in second.data["reason"]
    assert events(session, ticket["id"], "escalated") == []  # one silence is not yet a supervisor's matter
    messages = disp.get_received()
    [escalated] = [m["args"][0] for m in messages if m["name"] == "dispatch.escalated"]
    assert escalated["ticket"]["id"] == ticket["id"]
    assert escalated["ticket"]["hospital"]["code"] == "BV_VANPHUC1"
    assert (escalated["from_hospital"], escalated["to_hospital"]) == ("BVDK_TINH", "BV_VANPHUC1")
    assert f"{ACK} giây" in escalated["reason"]
    assert "ticket.updated" in [m["name"] for m in messages]

    # The new hospital now reads it; the old one no longer does.
    assert dapp.test_client().get(f"/api/tickets/{ticket['id']}", headers=bearer(dapp, "bv2")).status_code == 200
    assert dapp.test_client().get(f"/api/tickets/{ticket['id']}", headers=bearer(dapp, "bv1")).status_code == 404


def test_the_hospital_the_patient_goes_to_hears_of_it_on_its_console(dapp, clock, people):
    bv2 = console(dapp, "bv2")
    ticket = dispatch(dapp)
    assert bv2.get_received() == []  # not theirs yet

    run_jobs_at(dapp, clock, ACK + 1)

    messages = bv2.get_received()
    assert {"ticket.updated", "dispatch.escalated"} <= {m["name"] for m in messages}
    assert all(m["args"][0]["ticket"]["id"] == ticket["id"] for m in messages)
    assert all(m["args"][0]["ticket"]["hospital"]["code"] == "BV_VANPHUC1" for m in messages)


def test_the_periodic_sweep_catches_a_deadline_whose_job_was_lost(dapp, clock, people, session):
    from app.tasks.dispatch import sweep_dispatch

    ticket = dispatch(dapp)
    clock.move_to(at(ACK - 1))
    with dapp.app_context():
        assert sweep_dispatch() == 0
    clock.move_to(at(ACK + 1))
    with dapp.app_context():
        assert sweep_dispatch() == 1
        assert sweep_dispatch() == 0  # and a second sweep finds nothing left to do
    assert dispatched_to(session, ticket["id"]) == ["BVDK_TINH", "BV_VANPHUC1"]


def test_the_deadline_job_running_twice_redispatches_once(dapp, clock, people, session):
    from app.tasks.dispatch import check_dispatch, sweep_dispatch

    disp = console(dapp, "disp")
    ticket = dispatch(dapp)
    disp.get_received()
    clock.move_to(at(ACK + 1))

    with dapp.app_context():
        assert check_dispatch(ticket["id"]) > 0
    with dapp.app_context():
        assert check_dispatch(ticket["id"]) == 0
        assert sweep_dispatch() == 0
    # The in-process runner also holds the job queued at dispatch: it finds nothing to do.
    dapp.extensions["jobs"].run_due(now=at(ACK + 1).timestamp())

    assert dispatched_to(session, ticket["id"]) == ["BVDK_TINH", "BV_VANPHUC1"]
    assert len(received(disp, "dispatch.escalated")) == 1


def _on_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


@pytest.mark.postgresql_only
def test_two_deadline_jobs_at_the_same_instant_redispatch_once(dapp, clock, people, session, engine,
                                                             database_url):
    """Two workers run the job at once: both read the ticket before either writes. The
    version check lets one through; the other fails (and its retry finds nothing to do)."""
    if not _on_postgresql(database_url):
        pytest.skip("needs PostgreSQL's row locks")
    from app.tasks.dispatch import check_dispatch

    ticket = dispatch(dapp)
    clock.move_to(at(ACK + 1))
    results: list = []

    def worker() -> None:
        try:
            with dapp.app_context():
                results.append(check_dispatch(ticket["id"]))
        except Exception as exc:  # what each worker ended with is the point
            results.append(exc)

    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND wait_event_type = 'Lock'")
    with engine.connect() as blocker, engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
        # Hold the ticket's row so that both workers get as far as writing it, then let go.
        blocker.execute(text("SELECT id FROM tickets WHERE id = :id FOR UPDATE"), {"id": ticket["id"]})
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while watcher.scalar(waiting) < 2:  # autocommit: a fresh view of pg_stat_activity each time
            assert time.monotonic() < deadline, "the two workers never both reached the write"
            time.sleep(0.02)
        blocker.rollback()
    for thread in threads:
        thread.join(20)

    done = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(done) == 1 and done[0] > 0, results
    assert len(refused) == 1 and isinstance(refused[0], StaleDataError), results
    assert dispatched_to(session, ticket["id"]) == ["BVDK_TINH", "BV_VANPHUC1"]
    with dapp.app_context():  # the refused job's retry
        assert check_dispatch(ticket["id"]) == 0
    assert dispatched_to(session, ticket["id"]) == ["BVDK_TINH", "BV_VANPHUC1"]


# ---- acknowledgements --------------------------------------------------------------------

def test_an_acknowledgement_in_time_stops_the_clock(dapp, clock, people, session):
    disp = console(dapp, "disp")
    ticket = dispatch(dapp)

    clock.move_to(at(30))
    accepted = dapp.test_client().post(f"/api/tickets/{ticket['id']}/accept", headers=bearer(dapp, "bv1"))
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["status"] == "in_progress"

    run_jobs_at(dapp, clock, ACK + 1)
    run_jobs_at(dapp, clock, 2 * ACK)

    now = fresh(session, ticket["id"])
    assert (now.status, now.hospital.code, now.accepted_at) == ("in_progress", "BVDK_TINH", at(30))
    assert dispatched_to(session, ticket["id"]) == ["BVDK_TINH"]
    assert received(disp, "dispatch.escalated") == []


def test_a_late_acknowledgement_is_refused_recorded_and_changes_nothing(dapp, clock, people, session):
    disp = console(dapp, "disp")
    ticket = dispatch(dapp)
    run_jobs_at(dapp, clock, ACK + 1)
    disp.get_received()

    clock.move_to(at(ACK + 5))
    late = dapp.test_client().post(f"/api/tickets/{ticket['id']}/accept", headers=bearer(dapp, "bv1"))

    assert late.status_code == 409, late.get_json()
    error = late.get_json()["error"]
    assert "BV_VANPHUC1" in error["message"]  # where the patient went instead
    assert error["fields"] == {"hospital": "BV_VANPHUC1"}
    [recorded] = events(session, ticket["id"], "late_acknowledgement")
    assert recorded.data == {"hospital": "BVDK_TINH", "current_hospital": "BV_VANPHUC1"}
    assert recorded.at == at(ACK + 5)
    now = fresh(session, ticket["id"])
    assert (now.status, now.hospital.code, now.accepted_at) == ("assigned", "BV_VANPHUC1", None)
    [heard] = received(disp, "dispatch.late_acknowledgement")
    assert heard["hospital"] == "BVDK_TINH" and heard["ticket"]["hospital"]["code"] == "BV_VANPHUC1"

    # The hospital that has it now acknowledges normally.
    accepted = dapp.test_client().post(f"/api/tickets/{ticket['id']}/accept", headers=bearer(dapp, "bv2"))
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["status"] == "in_progress"


def test_a_hospital_never_dispatched_to_cannot_acknowledge(dapp, clock, people, session):
    ticket = dispatch(dapp)
    response = dapp.test_client().post(f"/api/tickets/{ticket['id']}/accept", headers=bearer(dapp, "bv3"))
    assert response.status_code == 404
    assert events(session, ticket["id"], "late_acknowledgement") == []
    assert fresh(session, ticket["id"]).status == "assigned"


# ---- full hospitals and escalation -------------------------------------------------------

def test_a_full_hospital_is_skipped_on_redispatch(dapp, clock, people, session):
    ticket = dispatch(dapp)
    full = dapp.test_client().post("/api/hospitals/BV_VANPHUC1/availability", json={"available": False},
                                   headers=bearer(dapp, "bv2"))
    assert full.status_code == 200, full.get_json()

    run_jobs_at(dapp, clock, ACK + 1)

    assert fresh(session, ticket["id"]).hospital.code == "BV_COLUMBIA_BD"
    assert dispatched_to(session, ticket["id"]) == ["BVDK_TINH", "BV_COLUMBIA_BD"]


def test_a_hospital_full_since_a_moment_is_skipped_by_a_worker_in_another_process(dapp, clock, people, session,
                                                                                  engine):
    """The web process commits BV_VANPHUC1's "full"; the process running the deadline job only
    sees the database (its own snapshot is not told)."""
    from app.tasks.dispatch import check_dispatch

    router.forget_snapshot()
    ticket = dispatch(dapp)  # this process builds its snapshot now
    with engine.begin() as conn:  # what the other process's POST /availability committed
        conn.execute(update(Hospital).where(Hospital.code == "BV_VANPHUC1").values(available=False))

    clock.move_to(at(ACK + 1))
    with dapp.app_context():
        check_dispatch(ticket["id"])

    assert fresh(session, ticket["id"]).hospital.code == "BV_COLUMBIA_BD"


def test_after_three_silent_hospitals_a_supervisor_is_called_in(dapp, clock, people, session):
    sup = console(dapp, "sup")
    ticket = dispatch(dapp)

    run_jobs_at(dapp, clock, ACK + 1)  # BVDK_TINH silent
    run_jobs_at(dapp, clock, 2 * ACK + 2)  # BV_VANPHUC1 silent
    assert events(session, ticket["id"], "escalated") == []
    sup.get_received()

    run_jobs_at(dapp, clock, 3 * ACK + 3)  # BV_COLUMBIA_BD silent: the third failure

    assert dispatched_to(session, ticket["id"]) == NEAREST  # still sent on, to the next one
    [escalated] = events(session, ticket["id"], "escalated")
    assert escalated.actor_label == "Điều phối tự động 115"
    assert escalated.data["failures"] == 3 and escalated.data["hospital"] == "BV_NAMANH"
    assert escalated.data["reason"]
    messages = sup.get_received()
    assert "escalated" in [m["args"][0].get("action") for m in messages if m["name"] == "ticket.updated"]
    [heard] = [m["args"][0] for m in messages if m["name"] == "dispatch.escalated"]
    assert (heard["from_hospital"], heard["to_hospital"]) == ("BV_COLUMBIA_BD", "BV_NAMANH")


def test_with_no_hospital_left_the_ticket_is_escalated_without_a_new_hospital(dapp, clock, people, session,
                                                                             engine):
    from app.tasks.dispatch import check_dispatch

    disp = console(dapp, "disp")
    ticket = dispatch(dapp)
    disp.get_received()
    with engine.connect() as conn:
        others = list(conn.scalars(select(Hospital.code).where(Hospital.code != "BVDK_TINH")))
    mark_full(engine, *others)

    clock.move_to(at(ACK + 1))
    with dapp.app_context():
        assert check_dispatch(ticket["id"]) > 0

    now = fresh(session, ticket["id"])
    assert (now.status, now.hospital.code) == ("assigned", "BVDK_TINH")  # nowhere else to send it
    assert dispatched_to(session, ticket["id"]) == ["BVDK_TINH"]
    [escalated] = events(session, ticket["id"], "escalated")
    assert escalated.data["hospital"] is None and escalated.data["failures"] == 1
    [heard] = received(disp, "dispatch.escalated")
    assert (heard["from_hospital"], heard["to_hospital"]) == ("BVDK_TINH", None)


def test_an_escalation_with_no_hospital_left_is_raised_once(dapp, clock, people, session, engine):
    from app.tasks.dispatch import check_dispatch

    disp = console(dapp, "disp")
    ticket = dispatch(dapp)
    disp.get_received()
    with engine.connect() as conn:
        others = list(conn.scalars(select(Hospital.code).where(Hospital.code != "BVDK_TINH")))
    mark_full(engine, *others)

    run_jobs_at(dapp, clock, ACK + 1)
    with dapp.app_context():
        check_dispatch(ticket["id"])  # the same job delivered twice
    run_jobs_at(dapp, clock, ACK + 10)  # and the periodic sweeps after it
    run_jobs_at(dapp, clock, ACK + 20)

    assert len(events(session, ticket["id"], "escalated")) == 1
    assert len(received(disp, "dispatch.escalated")) == 1


# ---- with RQ on a real Redis -------------------------------------------------------------

@pytest.fixture
def redis_conn() -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def rq_app(database_url, session, redis_conn) -> Iterator:
    application = build_app(database_url, REDIS_URL=REDIS_URL)
    yield application
    application.extensions["database"].engine.dispose()
    socketio.server_options.pop("client_manager", None)


def test_with_redis_the_deadline_is_an_rq_scheduled_job_and_a_worker_redispatches(rq_app, redis_conn, session):
    # Dispatched five minutes ago, so that its deadline has passed by the real clock the
    # RQ scheduler reads.
    dispatched_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    with time_machine.travel(dispatched_at, tick=False):
        make_user(session, "dispatcher", username="disp")
        ticket = dispatch(rq_app)
    assert ticket["hospital"]["code"] == "BVDK_TINH"
    row = fresh(session, ticket["id"])
    key = f"ack-{row.id}-{row.version}"

    scheduled = ScheduledJobRegistry("dispatch", connection=redis_conn)
    assert scheduled.get_job_ids() == [key]
    assert scheduled.get_scheduled_time(key) == dispatched_at + timedelta(seconds=ACK)
    job = Job.fetch(key, connection=redis_conn)
    assert (job.func_name, job.args) == ("app.tasks.dispatch.check_dispatch", (row.id,))

    with rq_app.app_context():
        SimpleWorker([Queue("dispatch", connection=redis_conn)], connection=redis_conn).work(
            burst=True, with_scheduler=True)

    assert Job.fetch(key, connection=redis_conn).get_status() == "finished"
    row = fresh(session, ticket["id"])
    assert (row.status, row.hospital.code) == ("assigned", "BV_VANPHUC1")
    assert dispatched_to(session, row.id) == ["BVDK_TINH", "BV_VANPHUC1"]
    # The new hospital's own deadline is scheduled in turn.
    following = f"ack-{row.id}-{row.version}"
    assert scheduled.get_job_ids() == [following]
    assert scheduled.get_scheduled_time(following) == row.assigned_at.replace(microsecond=0) + timedelta(
        seconds=ACK)
