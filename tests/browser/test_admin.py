"""The administration console in Chromium: an administrator creates a staff account for a
contact point and edits a routing rule, then finds both in the audit log; a refused field is
explained next to it; a name holding HTML shows as text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.browser.helpers import sign_in, wait_live
from tests.factories import NOW, make_user
from tests.tickets.test_admin_services import restore_config
from tickets import admin
from tickets.accounts import User
from tickets.directory import Hospital

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture(autouse=True)
def _config_restored(engine) -> Iterator[None]:
    yield from restore_config(engine)


@pytest.fixture
def base(live_server, session, page) -> str:
    make_user(session, "admin", username="root", display_name="Quản trị Bình Dương")
    sign_in(page, live_server, "root")
    return live_server


def open_section(page, base: str, section: str) -> None:
    page.goto(f"{base}/admin#{section}")
    wait_live(page)
    page.wait_for_selector(f'#adm-sections a[data-section="{section}"][aria-current=page]')
    page.wait_for_selector(f'table.adm-table[data-section="{section}"], #adm-body .empty:not(:has-text("…"))'
                           if section != "audit" else "#adm-body table.audit")


def test_an_admin_creates_a_staff_account_edits_a_rule_and_finds_both_in_the_audit_log(page, base, screenshot):
    open_section(page, base, "users")
    page.click("#adm-new")
    page.fill("#f-username", "tam.tnmt")
    page.fill("#f-display_name", "Nguyễn Văn Tâm")
    page.select_option("#f-role", "staff")
    page.select_option("#f-contact_point", "SO_TNMT")
    page.fill("#f-password", "mat-khau-dai-1")
    page.click("#drawer-save")
    row = page.locator('tr[data-key="tam.tnmt"]').first
    row.wait_for()
    assert "SO_TNMT" in row.inner_text()
    assert page.is_hidden("#adm-drawer")

    open_section(page, base, "routing_rules")
    rule = page.locator("table.adm-table tbody tr").filter(has=page.locator('td[data-col="f_category"]',
                                                                            has_text="giao_thong")).first
    rule.locator("td.act .btn").last.click()  # Edit, after the move buttons
    page.select_option("#f-contact_point", "SO_XAYDUNG")
    page.fill("#f-note", "Thử: đường giao về Sở Xây dựng")
    page.click("#drawer-save")
    page.wait_for_selector('td[data-col="f_note"]:has-text("Thử: đường giao về Sở Xây dựng")')
    page.evaluate("window.scrollTo(0, 0)")
    screenshot("console-admin")

    open_section(page, base, "audit")
    user_row = page.locator('#adm-body tr[data-entity="user"][data-key="tam.tnmt"]').first
    user_row.wait_for()
    assert "Quản trị Bình Dương" in user_row.inner_text()
    rule_row = page.locator('#adm-body tr[data-entity="routing_rule"]').first
    rule_row.wait_for()
    assert "SO_GTVT" in rule_row.locator("del").all_text_contents()
    assert "SO_XAYDUNG" in rule_row.locator("ins").all_text_contents()
    page.select_option("#a-entity", "user")
    page.click('#audit-filters button[type=submit]')
    page.wait_for_function("() => document.querySelectorAll('#adm-body tr[data-entity=routing_rule]').length === 0")
    assert page.locator('#adm-body tr[data-entity="user"]').count() == 1
    page.select_option("#a-entity", "")
    page.click('#audit-filters button[type=submit]')
    page.wait_for_selector('#adm-body tr[data-entity="routing_rule"]')
    screenshot("console-admin-audit")


def test_a_refused_field_is_explained_next_to_it_and_nothing_is_added(page, base):
    open_section(page, base, "contact_points")
    rows = page.locator("table.adm-table tbody tr").count()
    page.click("#adm-new")
    page.fill("#f-code", "SO_TNMT")
    page.fill("#f-phone", "12")
    page.click("#drawer-save")

    page.wait_for_selector("#f-code-error:not([hidden])")
    assert page.inner_text("#f-code-error").strip()
    assert page.is_visible("#f-name_vi-error") and page.is_visible("#f-phone-error")
    assert page.get_attribute("#f-code", "aria-invalid") == "true"
    assert page.is_visible("#form-error") and page.is_visible("#adm-drawer")
    page.keyboard.press("Escape")
    assert page.is_hidden("#adm-drawer")
    assert page.locator("table.adm-table tbody tr").count() == rows


def test_a_contact_point_name_holding_html_shows_as_text(page, base, session):
    root = session.scalar(select(User).where(User.username == "root"))
    admin.create_contact_point(session, root, NOW, {"code": "XSS_TEST", "name_vi": XSS, "name_en": "x",
                                                   "kind": "department", "categories": [], "aliases": []})
    session.commit()

    open_section(page, base, "contact_points")
    page.fill("#adm-q", "XSS_TEST")
    cell = page.locator('tr[data-key="XSS_TEST"] td[data-col="f_name"]').first
    cell.wait_for()

    assert XSS in cell.inner_text()
    assert page.evaluate("window.__xss") is None
    assert page.locator("#adm-body img").count() == 0
    page.click('tr[data-key="XSS_TEST"] td.act .btn')
    assert page.input_value("#f-name_vi") == XSS
    open_section(page, base, "audit")
    page.wait_for_selector('#adm-body tr[data-key="XSS_TEST"]')
    assert page.evaluate("window.__xss") is None and page.locator("#adm-body img").count() == 0


def test_an_admin_makes_a_staff_account_a_lead_with_a_mobile_through_the_form(db, page, base):
    lan = make_user(db, "staff", username="lan", contact_point="SO_TNMT")

    def stored():
        db.expire_all()
        user = db.get(User, lan.id)
        return user.role, user.is_lead, user.phone

    open_section(page, base, "users")
    page.click('tr[data-key="lan"] td.act .btn')
    assert page.is_visible("#f-is_lead") and page.is_visible("#f-phone")
    page.check("#f-is_lead")
    page.fill("#f-phone", "0274 3822 222")  # a landline: no SMS reaches it
    page.click("#drawer-save")
    page.wait_for_selector("#f-phone-error:not([hidden])")
    assert page.get_attribute("#f-phone", "aria-invalid") == "true"
    assert stored() == ("staff", False, None)

    page.fill("#f-phone", "0912 345 678")
    page.click("#drawer-save")
    page.wait_for_selector('tr[data-key="lan"] td[data-col="status"] .badge.lead')
    assert stored() == ("staff", True, "+84912345678")

    # Only staff and hospital users lead: the box goes with another role, and so does the flag.
    page.click('tr[data-key="lan"] td.act .btn')
    assert page.is_checked("#f-is_lead") and page.input_value("#f-phone") == "+84912345678"
    page.select_option("#f-role", "operator")
    assert page.is_hidden('[data-field="is_lead"]')
    page.click("#drawer-save")
    page.wait_for_selector("#adm-drawer", state="hidden")
    page.wait_for_function("() => !document.querySelector('tr[data-key=\"lan\"] .badge.lead')")
    assert stored() == ("operator", False, "+84912345678")

    open_section(page, base, "hospitals")
    page.click('tr[data-key="BVDK_TINH"] td.act .btn')
    page.fill("#f-sms_phone", "0987 654 321")
    page.click("#drawer-save")
    page.wait_for_selector("#adm-drawer", state="hidden")  # closed once the server has saved it
    db.expire_all()
    assert db.scalar(select(Hospital.sms_phone).where(Hospital.code == "BVDK_TINH")) == "+84987654321"

    open_section(page, base, "audit")
    hospital_row = page.locator('#adm-body tr[data-entity="hospital"][data-key="BVDK_TINH"]').first
    hospital_row.wait_for()
    assert "+84987654321" in hospital_row.locator("ins").all_text_contents()
    user_rows = page.locator('#adm-body tr[data-entity="user"][data-key="lan"]')
    assert user_rows.count() == 2
    assert "+84912345678" in user_rows.nth(1).locator("ins").all_inner_texts()
