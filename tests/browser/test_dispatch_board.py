"""The 115 dispatch board in a real browser: a signed 115 call pops up, the dispatcher places
the patient and dispatches; the hospital acknowledges on its own page and the board shows it
live; a re-dispatch after a silent hospital shows as it happens; another hospital sees
nothing; the map draws the districts with no tile server at all.

The acknowledgement deadline is driven the way the deadline job runs it, with an injected
time, so nothing here sleeps for a minute.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app import router
from tests.browser.helpers import sign_in, wait_live
from tests.factories import bearer, make_user
from tests.telephony.conftest import HOTLINE_115, call_sid
from tickets.db import utcnow

pytestmark = pytest.mark.browser

AT_BVDK_TINH = {"lat": 10.995089, "lon": 106.657617}
BVDK = "Bệnh viện Đa khoa tỉnh Bình Dương"
PHU_CUONG = "25747"  # a ward of Thủ Dầu Một, 2.4 km from Bệnh viện Đa khoa tỉnh
CALLER = "+84987654321"


def deadline_passes(app, ticket_id: int) -> None:
    """What the deadline job does once DISPATCH_ACK_SECONDS have gone by, with that time injected."""
    from app.database import db
    from app.publisher import commit_and_publish

    with app.app_context():
        ack = app.config["DISPATCH_ACK_SECONDS"]
        events = router.redispatch(db.session, ticket_id, utcnow() + timedelta(seconds=ack + 1), ack)
        assert events, "the case was not waiting for an acknowledgement"
        commit_and_publish(db.session, events)


def open_case(app, dispatcher, **place) -> dict:
    """A located 115 case, opened through the API: dispatched at once."""
    client = app.test_client()
    response = client.post("/api/tickets", headers=bearer(client, dispatcher), json={
        "line": "115", "channel": "phone", "caller_phone": CALLER,
        "description": "Tai nạn giao thông, chấn thương đầu", "address": "Ngã tư Phú Văn",
        **(place or AT_BVDK_TINH)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def second_page(browser, base: str, username: str):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    other = context.new_page()
    sign_in(other, base, username)
    return context, other


def countdown_runs(locator) -> bool:
    """Whether the countdown's text moves on (it ticks each second; a loaded CI machine may
    delay a tick, so it is given 5 s)."""
    first = locator.inner_text()
    for _ in range(20):
        locator.page.wait_for_timeout(250)
        if locator.inner_text() != first:
            return True
    return False


def test_a_115_call_is_dispatched_and_the_hospital_acknowledges_live(page, browser, live_server, session,
                                                                     twilio, screenshot):
    make_user(session, "dispatcher", username="dieu", display_name="Trần Văn Điều")
    make_user(session, "hospital", username="bvdk", hospital="BVDK_TINH")
    make_user(session, "hospital", username="qd4", hospital="BV_QD4")
    sign_in(page, live_server, "dieu")
    page.goto(f"{live_server}/dispatch")
    wait_live(page)
    elsewhere_context, elsewhere = second_page(browser, live_server, "qd4")
    hospital_context, hospital = second_page(browser, live_server, "bvdk")
    try:
        elsewhere.goto(f"{live_server}/hospital")
        wait_live(elsewhere)
        hospital.goto(f"{live_server}/hospital")
        wait_live(hospital)

        assert twilio.voice(call_sid(), from_=CALLER, to=HOTLINE_115).status_code == 200

        pop = page.locator(".call-pop")
        pop.wait_for()
        assert CALLER in pop.inner_text()
        page.locator("#case-description").wait_for()  # the case opens for the dispatcher at once
        page.fill("#case-description", "Sản phụ đau bụng dữ dội, ra máu")
        page.fill("#case-address", "Chợ Thủ Dầu Một, đường Bạch Đằng")
        page.select_option("#case-ward", PHU_CUONG)
        first_option = page.locator("#case-options .option").first
        first_option.wait_for()
        assert BVDK in first_option.inner_text()
        page.click("#case-submit")

        row = page.locator(".case-row").first
        row.locator(".countdown").wait_for()
        assert BVDK in row.inner_text()
        assert countdown_runs(row.locator(".countdown"))
        assert page.locator(".case-row").count() == 1
        page.locator(".chain-step.waiting").wait_for()
        page.locator("#map path.route-line").wait_for(state="attached")  # caller → hospital
        assert page.locator(".call-pop").count() == 0  # dealt with
        screenshot("console-dispatch")

        card = hospital.locator(".dispatch-card.waiting")
        card.wait_for()
        assert "Sản phụ đau bụng dữ dội" in card.inner_text()
        assert countdown_runs(card.locator(".countdown"))
        hospital.locator(".ack-button").click()
        hospital.locator(".dispatch-card.accepted").wait_for()

        page.locator(".case-row .row-state.ok").wait_for()  # the board hears it live
        page.locator(".chain-step.ok").wait_for()
        assert hospital.locator(".dispatch-card.waiting").count() == 0

        # The other hospital was told nothing and lists nothing.
        assert elsewhere.locator(".dispatch-card").count() == 0
        assert elsewhere.locator("#waiting-count").inner_text() == "0"
    finally:
        hospital_context.close()
        elsewhere_context.close()


def test_a_re_dispatch_shows_on_the_board_as_it_happens(app, page, live_server, session, screenshot):
    dispatcher = make_user(session, "dispatcher", username="dieu")
    case = open_case(app, dispatcher)
    assert case["hospital"]["code"] == "BVDK_TINH"
    sign_in(page, live_server, "dieu")
    page.goto(f"{live_server}/lang/en")
    page.goto(f"{live_server}/dispatch")
    wait_live(page)
    page.locator(f'.case-row[data-id="{case["id"]}"]').click()
    page.locator(".chain-step.waiting").wait_for()

    deadline_passes(app, case["id"])

    toast = page.locator(".toast", has_text="did not acknowledge in time")
    toast.wait_for()
    assert f"{BVDK} did not acknowledge in time — sent to Bệnh viện Đa khoa Vạn Phúc 1" in toast.inner_text()
    row = page.locator(f'li.case[data-id="{case["id"]}"]')
    assert "flash-warn" in row.get_attribute("class")
    page.locator(".chain-step.late").wait_for()  # the chain grew: BVDK ✗ → the next one, waiting
    steps = page.locator(".chain-step")
    assert steps.count() == 2
    assert "no acknowledgement within 60 s" in steps.nth(0).inner_text()
    assert "waiting" in steps.nth(1).get_attribute("class")
    # The countdown restarted for the new hospital.
    seconds = [int(x) for x in re.findall(r"(\d+):(\d\d)", row.locator(".countdown").inner_text())[0]]
    assert seconds[0] * 60 + seconds[1] > 45
    screenshot("console-dispatch-redispatch")


def test_the_map_draws_the_districts_without_tiles_and_a_click_places_the_patient(page, live_server, session):
    make_user(session, "dispatcher", username="dieu")
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server) else None)
    sign_in(page, live_server, "dieu")
    page.goto(f"{live_server}/dispatch")
    wait_live(page)

    page.wait_for_selector('#map[data-districts="9"]')
    assert page.locator("#map path.district").count() == 9
    page.wait_for_selector("#map path.hospital-marker")  # drawn once the hospitals have loaded
    assert page.locator("#map path.hospital-marker").count() >= 19
    assert page.locator("#map .leaflet-tile").count() == 0

    page.click("#new-case")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => document.querySelector('#case-coords').textContent.includes(',')")
    page.locator("#case-options .option").first.wait_for()
    assert page.locator("#case-submit").is_enabled()
    assert outside == []  # a closed network: nothing was fetched from anywhere else
