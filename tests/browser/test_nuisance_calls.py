"""A nuisance call on 115, in a real browser: the dispatcher cancels it as such from the
case form in one click (and a confirmation), or for another reason with words from the case;
when the same number calls again the pop-up says, calmly, how many nuisance calls it made in
the last 90 days — and the case is still there to take."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.helpers import sign_in, wait_live
from tests.factories import SYSTEM, make_ticket, make_user
from tests.telephony.conftest import HOTLINE_115, call_sid
from tickets.db import utcnow
from tickets.services import cancel_ticket

pytestmark = pytest.mark.browser

PRANKSTER = "+84388123456"


@pytest.fixture
def board(page, live_server, session) -> None:
    """The 115 dispatch board, in English, signed in as a dispatcher and live."""
    make_user(session, "dispatcher", username="dieu")
    sign_in(page, live_server, "dieu")
    page.goto(f"{live_server}/lang/en")
    page.goto(f"{live_server}/dispatch")
    wait_live(page)


def test_a_dispatcher_marks_a_prank_and_the_next_call_from_that_number_shows_it(board, page, twilio, screenshot):

    assert twilio.voice(call_sid(), from_=PRANKSTER, to=HOTLINE_115).status_code == 200
    first = page.locator(".call-pop")
    first.wait_for()
    assert page.locator(".nuisance-badge").count() == 0  # nothing known against the number yet
    page.locator(".case-form").wait_for()  # the case opens at once, to be completed …
    nuisance = page.locator("#case-nuisance")  # … but a prank is cancelled from the form itself
    screenshot("dispatch-case-form")
    page.once("dialog", lambda dialog: dialog.dismiss())
    nuisance.click()  # a slip of the mouse, taken back at the confirmation: nothing happens
    assert page.locator(".case-form").is_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    nuisance.click()
    page.locator(".toast", has_text="Case cancelled").wait_for()
    first.wait_for(state="detached")  # nobody needs to take a cancelled case's call

    assert twilio.voice(call_sid(), from_="+841688123456", to=HOTLINE_115).status_code == 200  # old form

    again = page.locator(".call-pop")
    again.wait_for()
    badge = again.locator(".nuisance-badge")
    badge.wait_for()
    assert badge.inner_text() == "Nuisance calls in the last 90 days: 1"
    take = again.get_by_role("button", name="Take the case")
    assert take.is_visible() and take.is_enabled()  # the call is answered like any other
    screenshot("dispatch-nuisance-call")


def test_the_1022_operator_sees_the_nuisance_note_in_the_call_pop_up(db, page, live_server, twilio, screenshot):
    make_user(db, "operator", username="lan")
    for days in (3, 40):
        prank = make_ticket(db, caller_phone="0388 123 456", now=utcnow() - timedelta(days=days))
        cancel_ticket(db, SYSTEM, prank.id, utcnow() - timedelta(days=days), reason_code="nuisance")
        db.commit()
    sign_in(page, live_server, "lan")
    page.goto(f"{live_server}/lang/en")
    page.goto(f"{live_server}/console")
    wait_live(page)
    page.locator("#duty").click()

    assert twilio.voice(call_sid(), from_=PRANKSTER).status_code == 200

    note = page.locator("#call-dialog #call-nuisance")
    note.wait_for()
    assert note.inner_text() == "Nuisance calls in the last 90 days: 2"
    assert page.locator("#call-history .hist-nuisance").count() == 2  # each earlier prank is marked
    assert page.locator("#call-take").is_visible()
    screenshot("operator-nuisance-call")


def test_a_case_cancelled_for_another_reason_needs_words(board, page, twilio):
    assert twilio.voice(call_sid(), from_=PRANKSTER, to=HOTLINE_115).status_code == 200
    page.locator(".case-form").wait_for()
    page.locator(".case-form .detail-head button", has_text="Close").click()

    box = page.locator(".cancel-box")
    box.locator("summary").click()
    choices = box.locator("input[name=cancel-code]")
    assert choices.first.get_attribute("value") == "nuisance"  # the commonest reason on 115, first
    box.get_by_role("radio", name="Wrong number").check()
    box.locator("button[type=submit]").click()
    assert box.locator("#cancel-reason").evaluate("el => el.validity.valueMissing")  # refused: why?
    assert page.locator(".toast", has_text="Case cancelled").count() == 0
    box.locator("#cancel-reason").fill("Gọi nhầm số, cần gọi tổng đài 1022")
    box.locator("button[type=submit]").click()
    page.locator(".toast", has_text="Case cancelled").wait_for()
    page.locator("#detail-title .status.cancelled").wait_for()
