"""The operations centre's figures (``tickets.operations_metrics``) on the data set of
``operations_dataset``, each worked out by hand there; read in a fixed number of statements;
the same as the supervisor's wallboard where both show a figure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import SYSTEM, counting_statements
from tests.tickets import operations_dataset as dataset
from tests.tickets.operations_dataset import NOW
from tickets import wallboard
from tickets.operations_metrics import LineCalls, operations_figures
from tickets.services import NewTicket, open_ticket


@pytest.fixture
def figures(session):
    dataset.build(session)
    return operations_figures(session, NOW)


def test_open_tickets_by_line_and_status(figures):
    assert figures.tickets_open == {
        ("1022", "new"): 2, ("1022", "assigned"): 2, ("1022", "in_progress"): 0,
        ("115", "new"): 1, ("115", "assigned"): 1, ("115", "in_progress"): 1,
    }


def test_tickets_created_count_every_ticket_by_line_and_channel_with_zeros(figures):
    created = {key: n for key, n in figures.tickets_created.items() if n}
    assert created == {("1022", "phone"): 2, ("1022", "web"): 1, ("1022", "email"): 1, ("1022", "sms"): 1,
                       ("115", "phone"): 4}
    assert figures.tickets_created[("115", "zalo")] == 0  # every line and channel is reported
    assert len(figures.tickets_created) == 2 * 7


def test_open_tickets_per_contact_point_and_hospital_by_code_and_those_routed_nowhere(figures):
    assert {code: n for code, n in figures.open_by_contact_point.items() if n} == {"SO_TNMT": 1, "SO_XAYDUNG": 1}
    assert figures.open_by_contact_point["SO_GTVT"] == 0  # every contact point, zeros included
    assert len(figures.open_by_contact_point) > 40
    assert {code: n for code, n in figures.open_by_hospital.items() if n} == {"BVDK_TINH": 1, "BV_QD4": 1}
    assert figures.open_unrouted == {"1022": 2, "115": 1}


def test_running_clocks_by_clock_and_state(figures):
    running = {key: n for key, n in figures.clocks_running.items() if n}
    assert running == {
        ("resolution", "ok"): 5, ("resolution", "warning"): 1, ("resolution", "paused"): 1,
        ("first_response", "ok"): 1, ("first_response", "paused"): 1,
        ("acknowledgement", "breached"): 1,
    }


def test_breaches_count_runs_marked_by_the_sweep_and_runs_stopped_late(figures):
    # t3's acknowledgement, marked by the sweep; t5's, acknowledged after 100 s of 60.
    assert figures.breaches == {"first_response": 0, "acknowledgement": 2, "resolution": 0}


def test_a_clock_past_due_counts_as_breached_now_but_as_a_breach_only_once_swept_or_stopped(session):
    ticket, events = open_ticket(session, SYSTEM, NewTicket(line="115", channel="phone"), NOW - timedelta(hours=3))
    dataset.sla.apply(session, events, NOW - timedelta(hours=3), dataset.CALENDARS, dataset.ACK_SECONDS)
    session.commit()  # its resolution clock (2 h) is an hour overdue, and no sweep has run

    figures = operations_figures(session, NOW)

    assert figures.clocks_running[("resolution", "breached")] == 1
    assert figures.breaches["resolution"] == 0


def test_calls_per_line(figures):
    assert figures.calls == {
        "1022": LineCalls(answered=0, unanswered=1, voicemail=1, active=1, waiting=1, longest_wait_seconds=40.0,
                          callbacks_pending=1),
        "115": LineCalls(answered=1, unanswered=1, voicemail=0, active=1, waiting=0, longest_wait_seconds=0.0,
                         callbacks_pending=1),
    }


def test_operators_and_dispatchers_on_duty(figures):
    assert figures.on_duty == {"operator": 2, "dispatcher": 1}


def test_outbox_by_status_and_the_age_of_the_oldest_unsent_message(figures):
    assert {status: n for status, n in figures.outbox.items() if n} == {"queued": 2, "sending": 1, "delivered": 1,
                                                                        "failed": 1}
    assert figures.outbox["sent"] == 0
    assert figures.oldest_unsent_age_seconds == 20 * 60  # the one being sent for a minute, queued 20 min ago


def test_no_unsent_message_means_an_age_of_zero(session):
    assert operations_figures(session, NOW).oldest_unsent_age_seconds == 0


def test_hospital_desk_alerts_pending(figures):
    assert figures.hospital_alerts_pending == {"call": 1, "sms": 0}


def test_115_acknowledgement_times_all_scored_runs_and_the_last_24_hours(figures):
    ack = figures.acknowledgements
    assert (ack.count, ack.seconds) == (2, 145.0)  # t4: 45 s, t5: 100 s
    assert (ack.count_24h, ack.seconds_24h) == (1, 45.0)
    assert ack.awaiting == 1  # t3, dispatched and not acknowledged


def test_satisfaction_answers_by_line_and_score(figures):
    assert figures.satisfaction == {("1022", "1"): 0, ("1022", "2"): 0, ("115", "1"): 1, ("115", "2"): 0}


def test_eight_statements_whatever_the_number_of_rows(session):
    dataset.build(session)
    with counting_statements(session.get_bind()) as few:
        operations_figures(session, NOW)
    for n in range(30):
        open_ticket(session, SYSTEM, NewTicket(line="1022", channel="web", description=f"thêm {n}"), NOW)
    session.commit()
    with counting_statements(session.get_bind()) as many:
        operations_figures(session, NOW)

    assert len(few) == len(many) == 8


def test_the_figures_both_show_agree_with_the_supervisors_wallboard(session, figures):
    board = wallboard.wallboard(session, SYSTEM, NOW)

    for line in board.calls.lines:
        mine = figures.calls[line.line]
        assert (mine.active, mine.waiting) == (line.active, line.waiting)
        assert mine.longest_wait_seconds == (line.longest_wait_seconds or 0.0)
    assert figures.on_duty == board.on_duty
    assert figures.acknowledgements.awaiting == board.ack_115.awaiting
    for status, n in board.open.by_status.items():
        assert sum(figures.tickets_open[(line, status)] for line in ("1022", "115")) == n
    assert {code: n for code, n in figures.open_by_contact_point.items() if n} == \
        {row.unit.code: row.count for row in board.open.by_contact_point}
    assert sum(figures.open_unrouted.values()) == board.open.no_destination
