"""One request across the consoles, each in its own browser: a citizen calls 1022, the
operator's pop-up shows the call, the operator completes and routes the ticket, it appears on
that department's page live (and not on another department's), the department answers it,
and the supervisor's wallboard moves — no page reloaded.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in, wait_live
from tests.browser.test_operator_console import code, open_console, ring, ticket_of_call
from tests.factories import make_user
from tests.telephony.conftest import call_sid
from tickets.canned import load_canned_responses

pytestmark = pytest.mark.browser

CANNED = Path(__file__).resolve().parents[2] / "data" / "directory" / "canned_responses.csv"


def test_a_call_is_routed_answered_and_counted_across_the_consoles(db, live_server, browser, page, twilio):
    load_canned_responses(db, CANNED)
    make_user(db, "operator", username="lan")
    make_user(db, "staff", username="dian", contact_point="UBND_DIAN")
    make_user(db, "staff", username="thuanan", contact_point="UBND_THUANAN")
    make_user(db, "supervisor", username="binh")
    db.commit()
    contexts = [browser.new_context(viewport={"width": 1366, "height": 768}) for _ in range(3)]
    department, neighbour, wallboard = (c.new_page() for c in contexts)
    try:
        open_console(page, live_server, "lan")
        for console, username in ((department, "dian"), (neighbour, "thuanan"), (wallboard, "binh")):
            sign_in(console, live_server, username)
            wait_live(console)
        expect(wallboard).to_have_url(f"{live_server}/supervisor")
        open_now = wallboard.locator('[data-key="open_total"]')
        expect(open_now).to_have_attribute("data-value", "0")

        # The call rings: the operator's pop-up, then the ticket it opened, counted at once.
        sid = call_sid()
        ring(twilio, sid, digits="1")
        expect(page.get_by_role("dialog")).to_be_visible()
        expect(open_now).to_have_attribute("data-value", "1")
        page.keyboard.press("Enter")
        ticket = ticket_of_call(db, sid)
        page.locator("#f-description").press_sequentially("Đèn đường không sáng ở phường Dĩ An", delay=5)
        expect(page.locator("#proposed-name")).to_have_text("Ủy ban nhân dân thành phố Dĩ An")
        page.keyboard.press("Control+Enter")
        expect(page.locator("#ticket-meta .status")).to_have_class("status assigned")

        # Dĩ An's page shows it live; Thuận An's never does.
        row = department.locator(f'#queue-rows tr[data-id="{ticket.id}"]')
        expect(row).to_be_visible()
        expect(row).to_contain_text(code(ticket))
        neighbour.reload()
        wait_live(neighbour)
        expect(neighbour.locator("#department")).not_to_contain_text(code(ticket))

        # Dĩ An accepts and answers with a canned response.
        row.click()
        department.locator("#act-accept").click()
        expect(department.locator(f'#queue-rows tr[data-id="{ticket.id}"]')).to_have_attribute(
            "data-status", "in_progress")
        department.locator("#tab-resolve").click()
        department.locator("#canned li button").first.click()
        department.locator("#send-resolve").click()
        expect(row).to_have_count(0)

        # The supervisor's board moved without a reload.
        expect(open_now).to_have_attribute("data-value", "0")
        db.expire_all()
        assert db.get(type(ticket), ticket.id).status == "resolved"
    finally:
        for context in contexts:
            context.close()
