"""A lead and their mobile set in /admin are the ones SLA escalation tells and texts; a lead
moved to another role there is told nothing (data/sla/escalation.csv, the shipped rules)."""

from __future__ import annotations

import pytest
import time_machine

from tests.factories import make_user
from tests.sla.helpers import bearer
from tests.sla.test_escalation import RULES, WARNING, WED_10, _assigned_ticket, _escalations, _sweep, _texts
from tickets import escalation


@pytest.fixture
def rules(session, policies) -> None:
    assert escalation.load_rules(session, RULES) == 4
    session.commit()


def _lan_named_lead_in_admin(client, session) -> tuple[int, dict[str, str]]:
    make_user(session, "operator", username="op")
    make_user(session, "admin", username="root")
    lan = make_user(session, "staff", username="lan", contact_point="SO_TNMT", display_name="Trưởng phòng Lan")
    root = bearer(client, "root")
    named = client.patch(f"/api/admin/users/{lan.id}", headers=root, json={"is_lead": True, "phone": "0912 345 678"})
    assert named.status_code == 200, named.get_json()
    return lan.id, root


def test_a_lead_named_in_admin_is_told_and_texted_at_the_warning(app, client, session, rules):
    with time_machine.travel(WED_10, tick=False) as traveller:
        _lan_named_lead_in_admin(client, session)
        ticket = _assigned_ticket(client)
        traveller.move_to(WARNING)
        _sweep(app)

    assert _escalations(session, ticket["id"]) == [("first_response", 1, "lead", ["Trưởng phòng Lan"], 1)]
    assert [to for to, _body in _texts(session)] == ["+84912345678"]


def test_a_lead_moved_to_operator_in_admin_is_no_longer_told(app, client, session, rules):
    with time_machine.travel(WED_10, tick=False) as traveller:
        lan_id, root = _lan_named_lead_in_admin(client, session)
        moved = client.patch(f"/api/admin/users/{lan_id}", headers=root, json={"role": "operator"})
        assert moved.status_code == 200, moved.get_json()
        ticket = _assigned_ticket(client)
        traveller.move_to(WARNING)
        _sweep(app)

    assert _escalations(session, ticket["id"]) == [("first_response", 1, "lead", [], 0)]
    assert _texts(session) == []
