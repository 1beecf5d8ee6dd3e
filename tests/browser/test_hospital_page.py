"""A hospital's emergency desk in a real browser: the dispatch with its large acknowledge
button and countdown, notes and closing out after acknowledging, the available/full switch,
and a late acknowledgement answered with the server's own message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app import router
from tests.browser.helpers import sign_in, wait_live
from tests.factories import bearer, make_user
from tickets.db import utcnow
from tickets.directory import Hospital
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.browser

IN_PHU_CUONG = {"lat": 10.981331, "lon": 106.651236, "ward_code": "25747"}  # 2.4 km from Bệnh viện Đa khoa tỉnh


@pytest.fixture(autouse=True)
def _hospitals_left_available(engine):
    yield
    with engine.begin() as conn:
        conn.execute(update(Hospital).where(Hospital.available.is_(False)).values(available=True))
    router.forget_snapshot()


def open_case(app, dispatcher, description: str = "Ngã xe máy, gãy chân") -> dict:
    client = app.test_client()
    response = client.post("/api/tickets", headers=bearer(client, dispatcher), json={
        "line": "115", "channel": "phone", "caller_phone": "0987 654 321", "description": description,
        "address": "Chợ Thủ Dầu Một", **IN_PHU_CUONG})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["hospital"]["code"] == "BVDK_TINH"
    return response.get_json()


def deadline_passes(app, ticket_id: int) -> None:
    """The deadline job, run with DISPATCH_ACK_SECONDS + 1 injected."""
    from app.database import db
    from app.publisher import commit_and_publish

    with app.app_context():
        ack = app.config["DISPATCH_ACK_SECONDS"]
        events = router.redispatch(db.session, ticket_id, utcnow() + timedelta(seconds=ack + 1), ack)
        assert events
        commit_and_publish(db.session, events)


def fresh(session, model, **where):
    session.rollback()
    session.expire_all()
    return session.scalars(select(model).filter_by(**where)).one()


@pytest.fixture
def desk(session):
    make_user(session, "hospital", username="bvdk", hospital="BVDK_TINH")
    return make_user(session, "dispatcher", username="dieu")


def test_a_dispatch_arrives_with_a_large_button_and_is_acknowledged_then_closed_out(
        app, page, live_server, session, desk, screenshot):
    sign_in(page, live_server, "bvdk")
    page.goto(f"{live_server}/hospital")
    wait_live(page)
    assert page.locator(".dispatch-card").count() == 0

    case = open_case(app, desk)

    card = page.locator(".dispatch-card.waiting")
    card.wait_for()
    assert "Ngã xe máy, gãy chân" in card.inner_text()
    assert "Chợ Thủ Dầu Một" in card.inner_text()
    page.wait_for_function("() => document.querySelector('.case-facts .far').textContent.includes('2.4 km')")
    page.wait_for_function("() => document.querySelector('.case-facts').textContent.includes('Phường Phú Cường')")
    button = card.locator(".ack-button")
    size = button.bounding_box()
    assert size["height"] >= 90 and size["width"] >= 200  # large: pressed in a hurry, from a distance
    screenshot("console-hospital")

    button.click()
    accepted = page.locator(".dispatch-card.accepted")
    accepted.wait_for()
    assert fresh(session, Ticket, id=case["id"]).status == "in_progress"

    accepted.locator("textarea[data-field=body]").fill("Đã chuẩn bị phòng mổ")
    accepted.get_by_role("button", name=page.evaluate("Hotline.t('add_note')")).click()
    page.locator(".notes li", has_text="Đã chuẩn bị phòng mổ").wait_for()

    page.locator(".dispatch-card.accepted textarea[data-field=resolution]").fill("Đã tiếp nhận, chuyển phẫu thuật")
    page.locator(".dispatch-card.accepted .btn.ok").click()
    page.locator(".dispatch-card").first.wait_for(state="detached")
    assert fresh(session, Ticket, id=case["id"]).status == "resolved"


def test_an_empty_resolution_is_refused_next_to_the_field(app, page, live_server, session, desk):
    case = open_case(app, desk)
    sign_in(page, live_server, "bvdk")
    page.goto(f"{live_server}/hospital")
    wait_live(page)
    page.locator(".ack-button").click()
    page.locator(".dispatch-card.accepted").wait_for()

    page.locator(".dispatch-card.accepted .btn.ok").click()

    page.locator(".dispatch-card.accepted .field-error").wait_for()
    assert page.locator(".dispatch-card.accepted .form-error").is_visible()
    assert fresh(session, Ticket, id=case["id"]).status == "in_progress"


def test_the_hospital_says_it_is_full_and_then_available_again(page, live_server, session, desk):
    sign_in(page, live_server, "bvdk")
    page.goto(f"{live_server}/lang/en")
    page.goto(f"{live_server}/hospital")
    wait_live(page)
    assert page.locator("#avail-state").inner_text() == "Taking patients"
    assert page.locator("#avail-on").get_attribute("aria-pressed") == "true"

    page.click("#avail-off")

    page.wait_for_selector("#avail-state.off")
    assert page.locator("#avail-state").inner_text() == "Full — not taking patients"
    assert page.locator("#avail-off").get_attribute("aria-pressed") == "true"
    assert fresh(session, Hospital, code="BVDK_TINH").available is False

    page.click("#avail-on")

    page.wait_for_selector("#avail-state.on")
    assert fresh(session, Hospital, code="BVDK_TINH").available is True


def test_a_late_acknowledgement_shows_the_servers_message(app, page, live_server, session, desk):
    case = open_case(app, desk)
    sign_in(page, live_server, "bvdk")
    page.goto(f"{live_server}/hospital")
    wait_live(page)
    page.locator(".dispatch-card.waiting").wait_for()

    page.evaluate("Hotline.socket.disconnect()")  # a dropped connection: the page misses the news
    deadline_passes(app, case["id"])  # gone to the next hospital
    page.locator(".ack-button").click()

    notice = page.locator(".notice")
    notice.wait_for()
    assert "điều phối sang bệnh viện khác" in notice.inner_text()
    assert page.locator(".dispatch-card").count() == 0
    ticket = fresh(session, Ticket, id=case["id"])
    assert ticket.hospital.code != "BVDK_TINH" and ticket.status == "assigned"
    session.rollback()
    assert session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == case["id"],
                                                           TicketEvent.action == "late_acknowledgement")).all()


def test_a_case_sent_to_another_hospital_leaves_the_page_at_once(app, page, live_server, session, desk):
    case = open_case(app, desk)
    sign_in(page, live_server, "bvdk")
    page.goto(f"{live_server}/hospital")
    wait_live(page)
    page.locator(".dispatch-card.waiting").wait_for()

    deadline_passes(app, case["id"])  # ticket.removed reaches this hospital's room

    page.locator(".dispatch-card").wait_for(state="detached")
