"""The ticket lifecycle of CONTRACT.md, as a pure table: no database, no actors.

Statuses: new → assigned → in_progress → resolved → closed; reopen from resolved or closed
back to assigned; cancel from new or assigned; cancelled is final. A refused transition
says which actions the ticket allows instead.
"""

from __future__ import annotations

import pytest

from tickets.errors import Conflict, InvalidTransition
from tickets.lifecycle import DONE_STATUSES, OPEN_STATUSES, Status, allowed_actions, next_status

# The specification, written out independently of tickets.lifecycle.TRANSITIONS:
# (status, action) -> the status it leads to.
ALLOWED: dict[tuple[Status, str], Status] = {
    # the main road
    (Status.NEW, "assign"): Status.ASSIGNED,
    (Status.ASSIGNED, "accept"): Status.IN_PROGRESS,
    (Status.IN_PROGRESS, "resolve"): Status.RESOLVED,
    (Status.RESOLVED, "close"): Status.CLOSED,
    # reopening sends the ticket back to its destination
    (Status.RESOLVED, "reopen"): Status.ASSIGNED,
    (Status.CLOSED, "reopen"): Status.ASSIGNED,
    # cancelling only before the work has started
    (Status.NEW, "cancel"): Status.CANCELLED,
    (Status.ASSIGNED, "cancel"): Status.CANCELLED,
    # (re)routing by hand while the ticket is open
    (Status.ASSIGNED, "assign"): Status.ASSIGNED,
    (Status.IN_PROGRESS, "assign"): Status.ASSIGNED,
    # a department hands back a ticket that is not theirs
    (Status.ASSIGNED, "transfer"): Status.ASSIGNED,
    (Status.IN_PROGRESS, "transfer"): Status.ASSIGNED,
    # answering straight away, without a separate accept
    (Status.ASSIGNED, "resolve"): Status.RESOLVED,
    # a note never changes the status, and is allowed on everything but a cancelled ticket
    **{(status, "comment"): status for status in Status if status is not Status.CANCELLED},
    # waiting on the caller (SLA clocks pause) and resuming, while the work is open
    **{(status, action): status for status in (Status.ASSIGNED, Status.IN_PROGRESS)
       for action in ("ask_caller", "resume")},
}
ACTIONS = ("assign", "accept", "transfer", "resolve", "reopen", "close", "cancel", "comment",
           "ask_caller", "resume")
REFUSED = [(status, action) for status in Status for action in ACTIONS
           if (status, action) not in ALLOWED]


def _id(pair: tuple[Status, str]) -> str:
    return f"{pair[1]}-from-{pair[0]}"


def test_the_statuses_are_exactly_those_of_the_contract():
    assert {s.value for s in Status} == {
        "new", "assigned", "in_progress", "resolved", "closed", "cancelled"}


def test_open_and_done_statuses_partition_all_statuses():
    assert {Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS} == OPEN_STATUSES
    assert {Status.RESOLVED, Status.CLOSED, Status.CANCELLED} == DONE_STATUSES
    assert set(Status) == OPEN_STATUSES | DONE_STATUSES


def test_the_main_road_goes_new_assigned_in_progress_resolved_closed():
    status = Status.NEW
    for action in ("assign", "accept", "resolve", "close"):
        status = next_status(status, action)
    assert status == Status.CLOSED


@pytest.mark.parametrize(("status", "action"), list(ALLOWED), ids=map(_id, ALLOWED))
def test_every_allowed_transition_leads_to_the_specified_status(status, action):
    assert next_status(status, action) == ALLOWED[(status, action)]


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED])
def test_reopen_from_resolved_or_closed_goes_back_to_assigned(status):
    assert next_status(status, "reopen") == Status.ASSIGNED


@pytest.mark.parametrize("status", [Status.NEW, Status.ASSIGNED])
def test_cancel_from_new_or_assigned_is_allowed(status):
    assert next_status(status, "cancel") == Status.CANCELLED


@pytest.mark.parametrize("action", ACTIONS)
def test_cancelled_is_final(action):
    with pytest.raises(InvalidTransition) as refused:
        next_status(Status.CANCELLED, action)
    assert "final" in refused.value.message
    assert allowed_actions(Status.CANCELLED) == []


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.CANCELLED])
def test_a_comment_never_changes_the_status(status):
    assert next_status(status, "comment") == status


@pytest.mark.parametrize("status", list(Status))
def test_allowed_actions_lists_exactly_the_specified_actions(status):
    expected = {action for (source, action) in ALLOWED if source == status}
    assert set(allowed_actions(status)) == expected


@pytest.mark.parametrize(("status", "action"), REFUSED, ids=map(_id, REFUSED))
def test_every_other_transition_is_refused_naming_the_allowed_actions(status, action):
    with pytest.raises(InvalidTransition) as refused:
        next_status(status, action)
    error = refused.value
    assert isinstance(error, Conflict)  # the API answers 409
    assert error.code == "invalid_transition"
    assert error.fields == {"status": status}
    assert action in error.message and status in error.message
    allowed_part = error.message.split("allowed now:", 1)[1]
    listed = {word.strip() for word in allowed_part.split(",")}
    expected = {a for (source, a) in ALLOWED if source == status}
    if expected:
        assert listed == expected
    else:
        assert "final" in allowed_part


def test_the_refusal_matrix_covers_every_pair_not_allowed():
    assert len(ALLOWED) + len(REFUSED) == len(Status) * len(ACTIONS)
    assert (len(ALLOWED), len(REFUSED)) == (22, 38)
