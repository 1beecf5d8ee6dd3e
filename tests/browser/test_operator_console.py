"""The operator console in a real browser: a call rings, the caller's history pops up, the
operator completes the ticket while the routing proposal follows their typing, and confirms.

Fixtures are asked for in the order db, live_server, page (see tests/browser/conftest.py): the
page closes and the server stops and drains first; the test's ``db`` session holds no lock.

Twilio is replaced only by signed webhooks posted to the app (the ``twilio`` fixture), so the
pop-up comes through the real path: webhook → ticket → publisher → Socket.IO → the page.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.helpers import sign_in, wait_live
from tests.factories import SYSTEM, make_ticket, make_user
from tests.telephony.conftest import call_sid, status_params, twiml, voice_params
from tickets.accounts import User
from tickets.calls import Call
from tickets.db import utcnow
from tickets.models import Ticket, TicketEvent
from tickets.services import update_ticket

pytestmark = pytest.mark.browser

CALLER = "+84912345678"
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def fresh(session, model, ident):
    session.rollback()
    session.expire_all()
    return session.get(model, ident)


def ticket_of_call(session, sid: str) -> Ticket:
    session.rollback()
    session.expire_all()
    return session.scalar(select(Call).where(Call.sid == sid)).ticket


def open_console(page, base: str, username: str, *, on_duty: bool = True) -> None:
    sign_in(page, base, username)
    expect(page).to_have_url(f"{base}/console")
    wait_live(page)
    if on_duty:
        page.locator("#duty").click()
        expect(page.locator("#duty")).to_have_attribute("aria-pressed", "true")


def ring(twilio, sid: str, *, digits: str | None = None, from_: str = CALLER) -> None:
    twiml(twilio.voice(sid, from_=from_))
    if digits is not None:
        twiml(twilio.post("/twilio/voice/gather", voice_params(sid, from_=from_, status="in-progress", Digits=digits)))


def code(ticket: Ticket) -> str:
    return f"{ticket.code[:4]}-{ticket.code[4:]}"


def test_a_call_pops_up_with_the_callers_history_and_is_routed_as_proposed(db, live_server, page, twilio,
                                                                           screenshot):
    operator = make_user(db, "operator", username="lan", display_name="Nguyễn Thị Lan")
    earlier = make_ticket(db, caller_phone="0912 345 678", category="rac_thai",
                          description="Rác tồn đọng đầu hẻm 45 ba ngày chưa thu gom", now=utcnow() - timedelta(days=20))
    for text, ward in (("Cống nghẹt, nước tràn ra đường Yersin", "25741"), ("Cây xanh ngã đổ chắn lối đi", None),
                       ("Xe tải chở đất làm rơi vãi ra đường", "25942")):
        make_ticket(db, description=text, ward_code=ward, caller_phone="0987 654 321",
                    now=utcnow() - timedelta(minutes=40))
    missed = call_sid()  # someone who rang before the shift and hung up waiting
    ring(twilio, missed, from_="+84868123456")
    twilio.post("/twilio/voice/status", status_params(missed, "no-answer", 2, From="+84868123456"))
    open_console(page, live_server, "lan")
    expect(page.locator("#queue-list .q-item")).to_have_count(5)
    expect(page.locator("#callback-list .cb-item")).to_have_count(1)
    screenshot("console-operator")

    sid = call_sid()
    ring(twilio, sid, digits="1")  # the menu: street lights, trees, pavements (do_thi)

    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#call-caller")).to_have_text("0912 345 678")
    history = dialog.locator("#call-history")
    expect(history).to_contain_text(code(earlier))
    expect(history).to_contain_text("Rác tồn đọng đầu hẻm 45")
    expect(dialog.locator("#call-ivr")).to_be_visible()  # the menu choice arrived after the ring
    expect(page.locator("#call-take")).to_be_focused()
    screenshot("console-operator-popup")

    page.keyboard.press("Enter")  # take the call

    expect(dialog).to_be_hidden()
    ticket = ticket_of_call(db, sid)
    expect(page.locator("#ticket-meta")).to_contain_text(code(ticket))
    description = page.locator("#f-description")
    expect(description).to_be_focused()
    # Before any words: a district matter of an unknown district goes to the provincial department.
    proposed = page.locator("#proposed-name")
    expect(proposed).to_have_text("Sở Xây dựng tỉnh Bình Dương")
    description.press_sequentially("Đèn đường không sáng ở phường Dĩ An", delay=5)
    # The words name the place, so the proposal follows: Dĩ An's People's Committee.
    expect(proposed).to_have_text("Ủy ban nhân dân thành phố Dĩ An")
    reasons = page.locator("#proposal-body .reasons")
    expect(reasons).to_contain_text("Dĩ An")
    expect(page.locator("#proposal-body .alts")).to_contain_text("Sở Xây dựng")
    screenshot("console-operator-proposal")

    page.keyboard.press("Control+Enter")

    expect(page.locator("#ticket-banner")).to_contain_text(code(ticket))
    expect(page.locator("#ticket-meta .status")).to_have_class("status assigned")
    routed = fresh(db, Ticket, ticket.id)
    assert (routed.status, routed.contact_point.code) == ("assigned", "UBND_DIAN")
    assert routed.description == "Đèn đường không sáng ở phường Dĩ An"
    assert routed.category_code == "do_thi" and routed.category_confirmed
    [assigned] = db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                           TicketEvent.action == "assign")).all()
    assert assigned.actor_id == operator.id and "Dĩ An" in assigned.data["reason"]


def test_the_on_duty_toggle_is_saved_and_the_keyboard_works_it_too(db, live_server, page):
    lan = make_user(db, "operator", username="lan")
    open_console(page, live_server, "lan", on_duty=False)
    duty = page.locator("#duty")
    expect(duty).to_have_attribute("aria-pressed", "false")

    duty.click()

    expect(duty).to_have_attribute("aria-pressed", "true")
    assert fresh(db, User, lan.id).on_duty
    page.reload()
    expect(page.locator("#duty")).to_have_attribute("aria-pressed", "true")

    page.locator("body").press("Alt+d")

    expect(page.locator("#duty")).to_have_attribute("aria-pressed", "false")
    assert not fresh(db, User, lan.id).on_duty


def test_a_caller_who_hangs_up_waiting_goes_to_the_call_back_list(db, live_server, page, twilio):
    make_user(db, "operator", username="lan")
    open_console(page, live_server, "lan")
    callbacks = page.locator("#callback-list")
    expect(callbacks.locator(".empty")).to_be_visible()  # nobody to call back yet

    sid = call_sid()
    ring(twilio, sid, from_="+84987654321")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    twilio.post("/twilio/voice/status", status_params(sid, "completed", 3, duration=35, From="+84987654321"))

    expect(dialog.locator("#call-ended")).to_be_visible()  # the pop-up says the caller is gone
    entry = callbacks.locator(".cb-item", has_text="0987 654 321")
    expect(entry).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    entry.locator("button.ok").click()

    expect(entry).to_have_count(0)
    db.rollback()
    call = db.scalar(select(Call).where(Call.sid == sid))
    assert call.callback_needed and call.callback_done_at is not None


def test_a_walk_in_request_is_opened_and_sent_to_an_alternative_the_operator_picks(db, live_server, page):
    make_user(db, "operator", username="lan")
    open_console(page, live_server, "lan", on_duty=False)
    page.locator("body").press("Alt+n")
    expect(page.locator("#f-phone")).to_be_focused()
    page.locator("#f-channel").select_option("walk_in")
    page.locator("#f-phone").fill("0903 111 222")
    page.locator("#f-description").fill("Rác thải đổ trộm ở phường Dĩ An")

    expect(page.locator("#proposed-name")).to_contain_text("Biwase")
    expect(page.locator("#category-suggest")).to_contain_text("Rác thải")
    alternative = page.locator("#proposal-body .alt").first
    expect(alternative).to_be_visible()
    chosen_name = alternative.locator(".alt-name").inner_text()
    alternative.click()
    expect(alternative).to_have_attribute("aria-pressed", "true")
    page.locator("#assign-reason").fill("Có dấu hiệu vi phạm trật tự")
    page.locator("#route").click()

    expect(page.locator("#ticket-banner")).to_contain_text(chosen_name)
    db.rollback()
    [ticket] = db.scalars(select(Ticket)).unique().all()
    assert (ticket.channel, ticket.caller_phone, ticket.status) == ("walk_in", "+84903111222", "assigned")
    assert ticket.contact_point.name_vi == chosen_name and ticket.contact_point.code != "BIWASE"
    [assigned] = db.scalars(select(TicketEvent).where(TicketEvent.action == "assign")).all()
    assert assigned.data["reason"] == "Có dấu hiệu vi phạm trật tự"


def test_a_ticket_changed_by_someone_else_is_reloaded_and_what_was_typed_is_kept(db, live_server, page):
    make_user(db, "operator", username="lan")
    ticket = make_ticket(db, description="", caller_phone="0912 345 678")
    open_console(page, live_server, "lan", on_duty=False)
    page.locator(f'.q-item[data-id="{ticket.id}"]').click()
    page.locator("#f-description").fill("Cống nghẹt ở phường Phú Cường")
    # Someone else changes the ticket without the console hearing of it (no publish).
    update_ticket(db, SYSTEM, ticket.id, utcnow(), changes={"caller_name": "Ông Tư"})
    db.commit()

    page.locator("#save").click()

    error = page.locator("#form-error")
    expect(error).to_be_visible()
    expect(page.locator("#f-name")).to_have_value("Ông Tư")  # reloaded
    expect(page.locator("#f-description")).to_have_value("Cống nghẹt ở phường Phú Cường")  # kept
    page.locator("#save").click()  # now on the current version
    expect(error).to_be_hidden()
    expect(page.locator("#draft-state")).to_have_text("")  # saved: nothing left only in the browser
    db.rollback()
    db.expire_all()
    saved = db.get(Ticket, ticket.id)
    assert (saved.description, saved.caller_name) == ("Cống nghẹt ở phường Phú Cường", "Ông Tư")


def test_refusals_show_next_to_their_field_and_a_dead_network_loses_nothing(db, live_server, page):
    make_user(db, "operator", username="lan")
    ticket = make_ticket(db, description="Mất nước hai ngày", caller_phone="0912 345 678")
    open_console(page, live_server, "lan", on_duty=False)
    page.locator(f'.q-item[data-id="{ticket.id}"]').click()
    page.locator("#f-phone").fill("12")

    page.locator("#save").click()

    phone_error = page.locator('[data-error-for="caller_phone"]')
    expect(phone_error).to_be_visible()
    expect(page.locator("#f-phone")).to_have_attribute("aria-invalid", "true")
    page.locator("#f-phone").fill("0912 345 679")
    page.locator("#f-description").fill("Mất nước hai ngày ở khu phố 3")
    page.route("**/api/tickets/**", lambda route: route.abort())

    page.locator("#save").click()

    expect(page.locator("#form-error")).to_be_visible()
    expect(page.locator("#f-description")).to_have_value("Mất nước hai ngày ở khu phố 3")
    page.unroute("**/api/tickets/**")
    db.rollback()
    db.expire_all()
    assert db.get(Ticket, ticket.id).description == "Mất nước hai ngày"  # nothing written


def test_a_repeat_call_is_linked_to_the_open_ticket_it_repeats(db, live_server, page, twilio):
    make_user(db, "operator", username="lan")
    original = make_ticket(db, caller_phone="0912 345 678", description="Rác đổ trộm ở hẻm 5",
                           now=utcnow() - timedelta(hours=2))
    open_console(page, live_server, "lan")
    sid = call_sid()
    ring(twilio, sid)
    page.locator("#call-take").click()
    duplicate = page.locator(f'#proposal-body .dupe[data-id="{original.id}"]')
    expect(duplicate).to_contain_text(code(original))

    duplicate.get_by_role("button", name=code(original)).click()
    duplicate.locator(".link-ask .btn.danger").click()

    expect(page.locator("#ticket-banner")).to_contain_text(code(original))
    new = ticket_of_call(db, sid)
    assert new.status == "cancelled"
    follower = db.scalar(select(TicketEvent).where(TicketEvent.ticket_id == original.id,
                                                        TicketEvent.action == "follower_added"))
    assert follower.data["ticket_id"] == new.id


def test_user_text_in_the_queue_and_the_pop_up_is_shown_as_text(db, live_server, page, twilio):
    make_user(db, "operator", username="lan")
    make_ticket(db, description=XSS, caller_name=XSS, caller_phone="0912 345 678")
    fired = []
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
    open_console(page, live_server, "lan")

    expect(page.locator("#queue-list")).to_contain_text('<img src=x onerror="window.__xss=1">')
    ring(twilio, call_sid())
    expect(page.locator("#call-history")).to_contain_text("<script>window.__xss=2</script>")

    assert page.evaluate("window.__xss") is None and not fired


def test_a_queue_redrawn_by_a_new_call_keeps_the_keyboard_on_the_same_ticket(db, live_server, page, twilio):
    make_user(db, "operator", username="lan")
    make_ticket(db, description="Đèn đường hỏng")
    second = make_ticket(db, description="Rác thải ùn ứ")  # not the first in the list
    db.commit()
    open_console(page, live_server, "lan", on_duty=False)
    page.locator(f'.q-item[data-id="{second.id}"]').focus()
    count = page.locator(".q-item").count()

    ring(twilio, call_sid())  # a new ticket: the queue is redrawn under the operator's keyboard
    expect(page.locator(".q-item")).to_have_count(count + 1)
    assert page.evaluate("() => document.activeElement.dataset.id") == str(second.id)
    page.keyboard.press("Enter")
    expect(page.locator("#f-description")).to_have_value("Rác thải ùn ứ")
