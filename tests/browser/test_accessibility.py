"""Every page, with real data on it, passes axe-core's WCAG 2.1 A and AA rules at 1366×768: no
violation of impact "serious" or "critical" (contrast, names and labels, ARIA misuse…). The
operator console and the dispatch board are also checked on a tablet held upright, where
nothing may scroll sideways.

axe-core is vendored for the tests (tests/browser/vendor/axe-core, scripts/vendor-axe.sh) and
injected into the page under test: nothing is fetched at test time and the app never serves it.
A failure lists each rule with its help text and the elements it found, so it says what to fix.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in, wait_live
from tests.browser.test_admin import open_section
from tests.browser.test_department_console import Api, a_busy_queue
from tests.browser.test_dispatch_board import open_case
from tests.browser.test_operator_console import open_console, ring
from tests.browser.test_wallboard import Morning
from tests.factories import make_ticket, make_user
from tests.telephony.conftest import HOTLINE_115, call_sid

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TABLET = {"width": 820, "height": 1180}  # an iPad Air held upright

RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return results.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
                targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
                summary: v.nodes[0].failureSummary}));
}"""


def serious_violations(page) -> list[dict]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, which the page's Content-Security-Policy
        # does not govern (a <script> tag added to the page would be refused, as it should).
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    return page.evaluate(RUN_AXE, WCAG_21_AA)


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"- {v['id']} ({v['impact']}, {v['count']} elements): {v['help']}\n"
        f"    at {' | '.join(v['targets'])}\n    {v['summary'].replace(chr(10), ' ')}"
        for v in violations)


def assert_accessible(page, screenshot, name: str) -> None:
    """The page as it is now (saved as screenshots/NAME.png for a person to look at) has no
    serious or critical WCAG 2.1 A/AA violation, and nothing on it scrolls sideways."""
    screenshot(name)
    violations = serious_violations(page)
    assert not violations, f"{page.url} fails WCAG 2.1 AA:\n{describe(violations)}"
    widths = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]} px wide in a {widths[1]} px window"


def visit(page, base: str, username: str, path: str) -> None:
    sign_in(page, base, username)
    page.goto(f"{base}{path}")
    wait_live(page)


def routed_ticket(operator: Api) -> dict:
    """A 1022 ticket opened and routed to SO_TNMT through the API, as an operator does."""
    ticket = operator.open(caller_name="Trần Thị Hoa",
                           description="Khói đen từ xưởng nhựa cuối hẻm 7, phường Phú Cường")
    operator.post(f"/api/tickets/{ticket['id']}/assign", {"contact_point": "SO_TNMT", "reason": "môi trường"})
    return ticket


def test_the_login_page(live_server, page, screenshot):
    page.goto(f"{live_server}/login")
    assert_accessible(page, screenshot, "a11y-login")


def test_the_public_tracking_page_with_a_ticket(db, live_server, page, screenshot):
    ticket = make_ticket(db)
    page.goto(f"{live_server}/track/{ticket.code[:4]}-{ticket.code[4:]}")
    expect(page.locator("ol.steps li")).to_have_count(1)
    assert_accessible(page, screenshot, "a11y-track")


@pytest.mark.parametrize("viewport", [None, TABLET], ids=["laptop", "tablet"])
def test_the_operator_console_with_a_ticket_open_then_a_call_ringing(db, live_server, page, twilio, screenshot,
                                                                     viewport):
    if viewport:
        page.set_viewport_size(viewport)
    suffix = "-tablet" if viewport else ""
    make_user(db, "operator", username="lan", display_name="Nguyễn Thị Lan")
    make_ticket(db, description="Rác tồn đọng đầu hẻm 45 ba ngày chưa thu gom ở phường Dĩ An",
                caller_phone="0912 345 678")
    open_console(page, live_server, "lan")
    page.locator("#queue-list .q-item").click()
    expect(page.locator("#proposed-name")).to_be_visible()
    assert_accessible(page, screenshot, f"a11y-console-operator{suffix}")

    ring(twilio, call_sid(), digits="1")

    # A modal <dialog> makes the rest of the page inert: axe now checks the pop-up.
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.locator("#call-history li")).to_have_count(1)
    assert_accessible(page, screenshot, f"a11y-console-operator-call{suffix}")


@pytest.mark.parametrize("viewport", [None, TABLET], ids=["laptop", "tablet"])
def test_the_dispatch_board_with_an_active_case(app, db, live_server, page, twilio, screenshot, viewport):
    if viewport:
        page.set_viewport_size(viewport)
    dispatcher = make_user(db, "dispatcher", username="dieu")
    case = open_case(app, dispatcher)
    visit(page, live_server, "dieu", "/dispatch")
    page.wait_for_selector('#map[data-districts="9"]')
    page.locator(f'.case-row[data-id="{case["id"]}"]').click()
    page.locator(".chain-step.waiting").wait_for()
    assert twilio.voice(call_sid(), from_="+84987000111", to=HOTLINE_115).status_code == 200
    page.locator(".call-pop").wait_for()  # a second call rings while a case is open…
    page.locator("#case-description").wait_for()  # …and its own case opens for the dispatcher
    # The map is checked too: Leaflet's own markup passes as it is, so nothing is excluded.
    assert_accessible(page, screenshot, f"a11y-console-dispatch{'-tablet' if viewport else ''}")


def test_the_hospital_page_with_a_dispatch(app, db, live_server, page, screenshot):
    make_user(db, "hospital", username="bvdk", hospital="BVDK_TINH")
    open_case(app, make_user(db, "dispatcher", username="dieu"))
    visit(page, live_server, "bvdk", "/hospital")
    page.locator(".dispatch-card.waiting").wait_for()
    assert_accessible(page, screenshot, "a11y-console-hospital")


def test_the_department_console_with_a_ticket_open(app, db, live_server, page, screenshot):
    make_user(db, "staff", username="tnmt", contact_point="SO_TNMT")
    operator = Api(app, make_user(db, "operator", username="lan"))
    a_busy_queue(app, operator)  # waiting for the caller, accepted, overdue
    ticket = routed_ticket(operator)
    visit(page, live_server, "tnmt", "/department")
    page.locator(f'#queue-rows tr[data-id="{ticket["id"]}"]').click()
    page.locator("#d-actions button").first.wait_for()  # the ticket, with what staff may do
    assert_accessible(page, screenshot, "a11y-console-department")


def test_the_ticket_page(app, db, live_server, page, screenshot):
    make_user(db, "supervisor", username="sup")
    ticket = routed_ticket(Api(app, make_user(db, "operator", username="lan")))
    visit(page, live_server, "sup", f"/tickets/{ticket['id']}")
    expect(page.locator("#t-history > li")).to_have_count(2)  # opened, assigned
    assert_accessible(page, screenshot, "a11y-ticket")


def test_the_supervisor_wallboard_on_a_busy_morning(db, live_server, page, screenshot):
    make_user(db, "supervisor", username="sup")
    Morning(db, datetime.now(UTC)).build()  # at risk, breached, thresholds watched and missed
    visit(page, live_server, "sup", "/supervisor")
    expect(page.locator("#wallboard")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#at-risk tbody tr[data-row]").first).to_be_visible()
    assert_accessible(page, screenshot, "a11y-wallboard")


def test_the_sla_page(app, db, live_server, page, screenshot):
    make_user(db, "supervisor", username="sup")
    routed_ticket(Api(app, make_user(db, "operator", username="lan")))
    sign_in(page, live_server, "sup")
    page.goto(f"{live_server}/supervisor/sla")
    expect(page.locator("#sla-summary tbody tr").first).to_be_visible()
    assert_accessible(page, screenshot, "a11y-sla")


def test_the_administration_users_section(db, live_server, page, screenshot):
    make_user(db, "admin", username="root", display_name="Quản trị Bình Dương")
    make_user(db, "staff", username="tnmt", contact_point="SO_TNMT")
    sign_in(page, live_server, "root")
    open_section(page, live_server, "users")
    assert_accessible(page, screenshot, "a11y-admin")
