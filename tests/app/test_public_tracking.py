"""The citizen's status page by tracking code: its steps are status changes only, and nothing
personal is ever on it."""

from __future__ import annotations

from tests.factories import SYSTEM, make_ticket, make_user
from tickets.db import utcnow
from tickets.services import accept_ticket, assign_ticket, record_event

DESK_PHONE = "+84274382299"


def test_the_steps_are_the_status_changes_in_order(client, session):
    ticket = make_ticket(session)
    assign_ticket(session, make_user(session, "operator"), ticket.id, utcnow(), contact_point="SO_TNMT")
    accept_ticket(session, make_user(session, "staff"), ticket.id, utcnow())
    session.commit()

    answer = client.get(f"/api/public/track/{ticket.code}").get_json()

    assert [s["status"] for s in answer["steps"]] == ["new", "assigned", "in_progress"]


def test_a_desk_alert_s_phone_number_is_not_a_step_nor_anywhere_on_the_page(client, session):
    ticket = make_ticket(session, line="115", priority="emergency")
    # A hospital desk call that failed: its history entry names the number it rang as "to".
    record_event(session, ticket, SYSTEM, "desk_call_failed", utcnow(), hospital="BVDK_TINH", to=DESK_PHONE)
    session.commit()

    api = client.get(f"/api/public/track/{ticket.code}")
    page = client.get(f"/track/{ticket.code}")

    assert api.status_code == 200 and [s["status"] for s in api.get_json()["steps"]] == ["new"]
    assert page.status_code == 200
    assert DESK_PHONE not in api.get_data(as_text=True) + page.get_data(as_text=True)
