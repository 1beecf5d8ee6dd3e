"""The daily rollup (tickets/sla_rollup.py): the summary read from it equals the summary
computed live — for every reader, period and line of the fixed data set — and stays equal
when an old ticket changes before the job has run again."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import pytest
import time_machine
from sqlalchemy import func, select, text, update

from app.jobs import PERIODIC
from app.tasks.sla import rollup_sla
from tests.factories import make_user
from tests.sla import dataset
from tests.sla.dataset import NOW, ZONE
from tests.sla.helpers import at, bearer, post
from tickets import reports, sla_rollup
from tickets.accounts import User
from tickets.models import Ticket
from tickets.sla import SlaClock
from tickets.sla_rollup import SlaRollupClock, SlaRollupDay, SlaRollupTickets

NOVEMBER = reports.Period(date(2026, 11, 1), date(2026, 11, 30), ZONE)
PERIODS = [NOVEMBER, reports.Period.last_days(NOW, 30, ZONE),
           reports.Period(date(2026, 10, 1), date(2026, 12, 1), ZONE),
           reports.Period(date(2026, 11, 10), date(2026, 11, 10), ZONE)]
READERS = ("sup", "adm", "op", "disp", "tnmt", "bv")


def _people(session) -> dict[str, User]:
    return {"sup": make_user(session, "supervisor", username="sup"),
            "adm": make_user(session, "admin", username="adm"),
            "op": make_user(session, "operator", username="op"),
            "disp": make_user(session, "dispatcher", username="disp"),
            "tnmt": make_user(session, "staff", username="tnmt", contact_point="SO_TNMT"),
            "bv": make_user(session, "hospital", username="bv", hospital="BVDK_TINH")}


def _own_tickets_on_the_other_line(session, people: dict[str, User]) -> None:
    """The operator opened 115 case t13 and the dispatcher 1022 ticket t11: no rollup row
    says who opened a ticket, so the summary must read these live."""
    for name, description in (("op", "t13"), ("disp", "t11")):
        session.execute(update(Ticket).where(Ticket.description == description).values(created_by_id=people[name].id))
    session.commit()


def _both(session, user: User, period: reports.Period, line: str | None = None):
    rolled = reports.summary(session, user, period, NOW, line, rollups=True)
    live = reports.summary(session, user, period, NOW, line, rollups=False)
    session.rollback()
    return rolled, live


def _figures(summary: reports.Summary) -> tuple:
    return summary.contact_points, summary.hospitals, summary.total, summary.calls


def test_every_reader_gets_the_live_figures_from_the_rollup(session, policies):
    dataset.build(session)
    people = _people(session)
    _own_tickets_on_the_other_line(session, people)
    assert sla_rollup.refresh(session, NOW, ZONE) == 47  # 15 Oct .. 30 Nov (1 Dec is today)
    assert sla_rollup.fresh_days(session, date(2026, 11, 1), date(2026, 11, 30), NOW.date())[-1] == date(2026, 11, 30)
    compared = 0
    for name in READERS:
        for period in PERIODS:
            for line in (None, "1022", "115"):
                rolled, live = _both(session, people[name], period, line)
                assert _figures(rolled) == _figures(live), (name, period, line)
                compared += rolled.total.tickets > 0
    assert compared > 40  # most comparisons are of something


def test_the_summary_reads_whole_past_days_from_the_rollup(session, policies):
    """Doctor one rolled-up day: only the rollup-based summary sees it (so the test above
    compares two different computations, not one computation twice)."""
    dataset.build(session)
    people = _people(session)
    sla_rollup.refresh(session, NOW, ZONE)
    session.execute(update(SlaRollupTickets).where(SlaRollupTickets.day == date(2026, 11, 2))  # t1's day
                    .values(tickets=SlaRollupTickets.tickets + 100))
    session.commit()
    rolled, live = _both(session, people["sup"], NOVEMBER)
    assert (rolled.total.tickets, live.total.tickets) == (113, 13)
    # Today is always computed live, even if a rollup of it existed.
    session.execute(update(SlaRollupDay).where(SlaRollupDay.day == date(2026, 12, 1)).values(computed_changes=0))
    session.add(SlaRollupTickets(day=date(2026, 12, 1), line="1022", tickets=100, resolved=0, reopened=0,
                                 surveys=0, satisfied=0))
    session.commit()
    rolled, live = _both(session, people["sup"], reports.Period(date(2026, 12, 1), date(2026, 12, 1), ZONE))
    assert rolled.total.tickets == live.total.tickets == 1  # t14


def test_an_old_ticket_changed_counts_at_once_and_the_next_run_rolls_it_up(app, client, session, policies):
    data = dataset.build(session)
    people = _people(session)
    sla_rollup.refresh(session, NOW, ZONE)
    before, _ = _both(session, people["sup"], NOVEMBER)
    t3 = data.tickets["t3"]  # created 10 Nov, in progress, its resolution clock running
    with time_machine.travel(NOW, tick=False):
        post(client, bearer(client, "tnmt"), f"/api/tickets/{t3}/resolve", resolution="Đã dọn cây")
    fresh = set(sla_rollup.runs(sla_rollup.fresh_days(session, date(2026, 11, 1), date(2026, 11, 30),
                                                      NOW.date())))
    assert fresh == {(date(2026, 11, 1), date(2026, 11, 9)), (date(2026, 11, 11), date(2026, 11, 30))}
    rolled, live = _both(session, people["sup"], NOVEMBER)
    assert _figures(rolled) == _figures(live)
    assert (rolled.total.clocks["resolution"].scored, rolled.total.resolved) == (
        before.total.clocks["resolution"].scored + 1, before.total.resolved + 1)
    assert sla_rollup.refresh(session, NOW, ZONE) == 1  # only 10 Nov
    assert len(sla_rollup.fresh_days(session, date(2026, 11, 1), date(2026, 11, 30), NOW.date())) == 30
    rolled, live = _both(session, people["sup"], NOVEMBER)
    assert _figures(rolled) == _figures(live)


def test_running_the_job_again_computes_nothing(session, policies):
    dataset.build(session)
    assert sla_rollup.refresh(session, NOW, ZONE) == 47
    rows = session.execute(text("SELECT count(*) FROM sla_rollup_clocks")).scalar()
    assert sla_rollup.refresh(session, NOW, ZONE) == 0
    assert session.execute(text("SELECT count(*) FROM sla_rollup_clocks")).scalar() == rows > 0
    assert sla_rollup.refresh(session, NOW, ZONE, rebuild=True) == 47
    assert session.execute(text("SELECT count(*) FROM sla_rollup_clocks")).scalar() == rows


def test_a_day_is_rolled_up_an_hour_after_it_ends_and_counters_exist_a_day_ahead(session, policies):
    dataset.build(session)
    sla_rollup.refresh(session, at(2026, 12, 1, 0, 59), ZONE)
    days = dict(session.execute(select(SlaRollupDay.day, SlaRollupDay.computed_changes)).all())
    assert (days[date(2026, 11, 29)], days[date(2026, 11, 30)], days[date(2026, 12, 2)]) == (0, None, None)
    assert date(2026, 12, 3) not in days
    assert sla_rollup.refresh(session, at(2026, 12, 1, 1), ZONE) == 1
    assert session.get(SlaRollupDay, date(2026, 11, 30), populate_existing=True).computed_changes == 0


def test_the_day_arrays_hold_every_scored_run_sorted(session, policies):
    dataset.build(session)
    sla_rollup.refresh(session, NOW, ZONE)
    # 5 Nov: t2 created, its runs: first response 18000 (late), resolution 20000 (met) then 150000 (late).
    rows = {r.clock: r for r in session.scalars(select(SlaRollupClock).where(SlaRollupClock.day == date(2026, 11, 5)))}
    assert (rows["resolution"].scored, rows["resolution"].met) == (2, 1)
    assert sla_rollup.unpack(rows["resolution"].elapsed).tolist() == [20000.0, 150000.0]
    assert sla_rollup.unpack(rows["first_response"].elapsed).tolist() == [18000.0]
    total = session.scalar(select(func.sum(SlaRollupClock.scored)))
    scored = session.scalar(select(func.count()).select_from(SlaClock).join(Ticket, Ticket.id == SlaClock.ticket_id)
                            .where(SlaClock.met.is_not(None), Ticket.created_at < at(2026, 12, 1)))
    assert total == scored == 12


@pytest.mark.postgresql_only
def test_percentiles_from_arrays_equal_postgresql_percentile_cont(session):
    rng = random.Random(5)
    samples = [[rng.uniform(0, 200000) for _ in range(n)] for n in (1, 2, 3, 10, 101, 2000)]
    samples.append([rng.choice([60.0, 3600.0, 14400.5]) for _ in range(999)])  # ties
    for sample in samples:
        ours = sla_rollup.percentiles(np.asarray(sample, dtype="<f8"))
        theirs = session.execute(text(
            "SELECT percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY v) FROM unnest(CAST(:vs AS float8[])) v"),
            {"vs": sample}).scalar()
        assert ours == list(theirs)  # to the last bit


def test_the_rollup_job_is_periodic_and_runs_in_the_app(app, session, policies):
    assert any(p.func == "app.tasks.sla.rollup_sla" for p in PERIODIC)
    dataset.build(session)
    with time_machine.travel(NOW, tick=False), app.app_context():
        assert rollup_sla() == 47
        assert rollup_sla() == 0
