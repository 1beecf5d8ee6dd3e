"""Nuisance calls for supervisors: the wallboard's "today · 30 days" per line, and the same
figures in GET /metrics (one definition: tickets.wallboard.nuisance_conditions)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests.app.test_metrics import parse
from tests.factories import NOW, SYSTEM, bearer, make_ticket, make_user
from tickets.services import cancel_ticket
from tickets.wallboard import wallboard

# NOW is 10:00 in Bình Dương: 11 hours earlier is yesterday evening there.
PRANKS_115 = [timedelta(hours=1), timedelta(hours=11), timedelta(days=3), timedelta(days=29)]
TOO_OLD = timedelta(days=31)


def cancelled(session, ago: timedelta, reason_code: str, line: str = "115") -> None:
    ticket = make_ticket(session, now=NOW - ago, line=line)
    cancel_ticket(session, SYSTEM, ticket.id, NOW - ago + timedelta(minutes=2), reason_code=reason_code,
                  reason="Gọi nhầm số" if reason_code != "nuisance" else None)
    session.commit()


@pytest.fixture
def pranks(session) -> None:
    for ago in PRANKS_115:
        cancelled(session, ago, "nuisance")
    cancelled(session, TOO_OLD, "nuisance")  # out of the 30 days
    cancelled(session, timedelta(hours=2), "wrong_number")  # cancelled, but not a nuisance call
    cancelled(session, timedelta(hours=3), "nuisance", line="1022")
    make_ticket(session, now=NOW - timedelta(hours=1), line="115")  # open: a real emergency


def test_the_wallboard_counts_nuisance_calls_per_line_today_and_over_30_days(session, pranks):
    board = wallboard(session, SYSTEM, NOW)

    assert {(n.line, n.today, n.days_30) for n in board.nuisance_calls} == {("115", 1, 4), ("1022", 1, 1)}


def test_metrics_report_the_wallboards_figures(session, client, pranks):
    board = wallboard(session, SYSTEM, NOW)
    session.rollback()  # end the read: the app's teardown empties the tables
    with time_machine.travel(NOW, tick=False):
        samples = parse(client.get("/metrics").get_data(as_text=True))

    assert {row.line: row.today for row in board.nuisance_calls} == \
        {dict(labels)["line"]: n for labels, n in samples["hotline_nuisance_calls_today"].items()}
    assert {row.line: row.days_30 for row in board.nuisance_calls} == \
        {dict(labels)["line"]: n for labels, n in samples["hotline_nuisance_calls_30d"].items()}


def test_the_wallboard_api_gives_them_to_the_supervisor_s_page(session, client, pranks):
    headers = bearer(client, make_user(session, "supervisor"))
    with time_machine.travel(NOW, tick=False):
        answer = client.get("/api/supervisor/wallboard", headers=headers).get_json()

    assert {(n["line"], n["today"], n["days_30"]) for n in answer["nuisance_calls"]} == {("115", 1, 4), ("1022", 1, 1)}
