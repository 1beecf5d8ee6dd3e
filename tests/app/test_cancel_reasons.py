"""Cancelling says why, as a code reports can count: nuisance (prank, silent, abusive call),
duplicate, wrong_number or other; the words stay, and a nuisance call needs none."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import SYSTEM, bearer, db_counts, make_ticket, make_user
from tickets.models import Ticket, TicketEvent
from tickets.services import link_duplicate


def cancel(client, headers, ticket_id: int, **body):
    return client.post(f"/api/tickets/{ticket_id}/cancel", json=body, headers=headers)


def cancel_event(session, ticket_id: int) -> TicketEvent:
    session.expire_all()
    return session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id,
                                                     TicketEvent.action == "cancel")).one()


def test_a_dispatcher_cancels_a_prank_in_one_click_without_writing_anything(client, session):
    headers = bearer(client, make_user(session, "dispatcher"))
    ticket = make_ticket(session, line="115")

    response = cancel(client, headers, ticket.id, reason_code="nuisance")

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["cancel_reason"], body["nuisance"]) == ("cancelled", "nuisance", True)
    event = cancel_event(session, ticket.id)
    assert event.data["reason_code"] == "nuisance"
    assert event.data["reason"] == "Cuộc gọi quấy rối"  # a sensible default, for the history
    assert session.get(Ticket, ticket.id).cancel_reason == "nuisance"


def test_the_words_given_are_kept_beside_the_code(client, session):
    headers = bearer(client, make_user(session, "operator"))
    ticket = make_ticket(session)

    response = cancel(client, headers, ticket.id, reason_code="nuisance", reason="Chửi bới, cúp máy")

    assert response.get_json()["cancel_reason"] == "nuisance"
    assert cancel_event(session, ticket.id).data["reason"] == "Chửi bới, cúp máy"


def test_a_cancel_without_a_code_is_other_as_before(client, session):
    headers = bearer(client, make_user(session, "operator"))
    ticket = make_ticket(session)

    body = cancel(client, headers, ticket.id, reason="Gọi nhầm số").get_json()

    assert (body["cancel_reason"], body["nuisance"]) == ("other", False)
    assert cancel_event(session, ticket.id).data == {"from": "new", "to": "cancelled", "reason": "Gọi nhầm số",
                                                      "reason_code": "other"}


@pytest.mark.parametrize(("body", "field"), [
    pytest.param({"reason_code": "spam", "reason": "quảng cáo"}, "reason_code", id="unknown code"),
    pytest.param({"reason_code": "wrong_number"}, "reason", id="no words for a wrong number"),
    pytest.param({"reason_code": "other", "reason": "   "}, "reason", id="blank words for other"),
])
def test_a_refused_cancel_is_422_naming_the_field_and_writes_nothing(client, session, engine, body, field):
    headers = bearer(client, make_user(session, "dispatcher"))
    ticket = make_ticket(session, line="115")
    before = db_counts(engine)

    response = cancel(client, headers, ticket.id, **body)

    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()["error"]["fields"]) == {field}
    assert db_counts(engine) == before


def test_a_reason_code_gives_no_one_a_right_to_cancel(client, session, engine):
    staff = bearer(client, make_user(session, "staff", contact_point="SO_TNMT"))
    operator = bearer(client, make_user(session, "operator"))
    theirs, emergency = make_ticket(session), make_ticket(session, line="115")
    before = db_counts(engine)

    assert cancel(client, staff, theirs.id, reason_code="nuisance").status_code == 404  # not theirs to read
    assert cancel(client, operator, emergency.id, reason_code="nuisance").status_code == 404
    assert db_counts(engine) == before


def test_linking_a_duplicate_records_duplicate_as_its_code(session):
    original, duplicate = make_ticket(session), make_ticket(session, description="Cùng một việc")

    link_duplicate(session, SYSTEM, duplicate.id, duplicate.created_at, duplicate_of=original.id)
    session.commit()

    assert session.get(Ticket, duplicate.id).cancel_reason == "duplicate"
    assert cancel_event(session, duplicate.id).data["reason_code"] == "duplicate"


def test_the_openapi_document_lists_the_codes(client):
    schema = client.get("/api/openapi.json").get_json()["components"]["schemas"]["CancelBody"]
    assert schema["properties"]["reason_code"]["enum"] == ["nuisance", "duplicate", "wrong_number", "other"]
