"""Two people acting on the same ticket at once: the first change wins, the second is refused
instead of silently overwriting it, and history records only what really happened."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy.orm.exc import StaleDataError

from tests.factories import NOW, SYSTEM, make_ticket, make_user
from tickets.accounts import User
from tickets.db import make_session_factory
from tickets.errors import InvalidTransition
from tickets.models import Ticket
from tickets.services import (
    accept_ticket,
    assign_ticket,
    cancel_ticket,
    get_ticket,
    ticket_events,
)

LATER = NOW + timedelta(minutes=5)


def assigned_ticket(session) -> Ticket:
    """A committed 1022 ticket assigned to SO_TNMT."""
    ticket = make_ticket(session)
    assign_ticket(session, SYSTEM, ticket.id, NOW, contact_point="SO_TNMT")
    session.commit()
    return ticket


def test_of_two_people_accepting_the_same_ticket_the_second_is_refused(session, engine):
    first_staff = make_user(session, "staff", contact_point="SO_TNMT")
    second_staff = make_user(session, "staff", contact_point="SO_TNMT")
    ticket = assigned_ticket(session)
    events_before = [e.id for e in ticket_events(session, ticket)]
    factory = make_session_factory(engine)

    with factory() as first, factory() as second:
        # Both have the ticket loaded as assigned, version 2 (kept referenced, so each
        # session's identity map holds on to what it read).
        seen_first = get_ticket(first, first_staff, ticket.id)
        seen_second = get_ticket(second, second_staff, ticket.id)
        assert (seen_first.version, seen_second.version) == (2, 2)

        accept_ticket(first, first_staff, ticket.id, LATER)
        first.commit()

        # The second writer still holds version 2; its UPDATE matches no row. The verb
        # flushes, so the refusal surfaces there, before commit is even reached.
        with pytest.raises(StaleDataError):
            accept_ticket(second, second_staff, ticket.id, LATER + timedelta(seconds=1))
            second.commit()
        second.rollback()

    with factory() as check:
        stored = check.get(Ticket, ticket.id)
        assert (stored.status, stored.version, stored.accepted_at) == ("in_progress", 3, LATER)
        new_events = [e for e in ticket_events(check, stored) if e.id not in events_before]
        assert [(e.action, e.actor_id) for e in new_events] == [("accept", first_staff.id)]


def test_a_cancel_racing_a_reassignment_is_refused_and_the_reassignment_stands(session, engine):
    reassigning = make_user(session, "operator")
    cancelling = make_user(session, "operator")
    ticket = assigned_ticket(session)
    events_before = [e.id for e in ticket_events(session, ticket)]
    factory = make_session_factory(engine)

    with factory() as first, factory() as second:
        seen_first = get_ticket(first, reassigning, ticket.id)
        seen_second = get_ticket(second, cancelling, ticket.id)
        assert (seen_first.version, seen_second.version) == (2, 2)

        assign_ticket(first, reassigning, ticket.id, LATER, contact_point="SO_XAYDUNG",
                      reason="đèn đường thuộc Sở Xây dựng")
        first.commit()

        with pytest.raises(StaleDataError):
            cancel_ticket(second, cancelling, ticket.id, LATER, reason="trùng phiếu")
            second.commit()
        second.rollback()

    with factory() as check:
        stored = check.get(Ticket, ticket.id)
        assert stored.status == "assigned"
        assert stored.contact_point.code == "SO_XAYDUNG"
        assert stored.version == 3
        new_events = [e for e in ticket_events(check, stored) if e.id not in events_before]
        assert [(e.action, e.actor_id) for e in new_events] == [("assign", reassigning.id)]
        assert new_events[0].data["previous"] == {"contact_point": "SO_TNMT"}


@pytest.mark.postgresql_only
def test_of_ten_simultaneous_accepts_exactly_one_succeeds(session, engine):
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers on a file lock; the race is a PostgreSQL one")
    staff_ids = [make_user(session, "staff", contact_point="SO_TNMT").id for _ in range(10)]
    ticket = assigned_ticket(session)
    factory = make_session_factory(engine)
    everyone_loaded = threading.Barrier(len(staff_ids), timeout=30)
    outcomes: list[object] = [None] * len(staff_ids)

    def try_to_accept(index: int, staff_id: int) -> None:
        with factory() as own:
            try:
                staff = own.get(User, staff_id)
                seen = get_ticket(own, staff, ticket.id)  # every thread holds version 2
                assert seen.version == 2
                everyone_loaded.wait()
                accept_ticket(own, staff, ticket.id, LATER + timedelta(milliseconds=index))
                own.commit()
                outcomes[index] = "accepted"
            except Exception as error:  # noqa: BLE001 - recorded and asserted below
                own.rollback()
                outcomes[index] = error

    threads = [threading.Thread(target=try_to_accept, args=(i, staff_id))
               for i, staff_id in enumerate(staff_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    assert outcomes.count("accepted") == 1
    refusals = [o for o in outcomes if o != "accepted"]
    assert all(isinstance(o, StaleDataError | InvalidTransition) for o in refusals), refusals

    with factory() as check:
        stored = check.get(Ticket, ticket.id)
        assert (stored.status, stored.version) == ("in_progress", 3)
        accepts = [e for e in ticket_events(check, stored) if e.action == "accept"]
        assert len(accepts) == 1
        winner = staff_ids[outcomes.index("accepted")]
        assert accepts[0].actor_id == winner
