"""API keys in the administration console, in Chromium: an administrator issues an Open311 key,
sees it once and copies it, an outside client opens a request with it, and once revoked it is
refused; refused names and scopes are explained next to their fields; a key name holding HTML
shows as text; the hospitals table shows each desk's SMS number."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser import test_admin
from tests.browser.helpers import wait_live
from tests.browser.test_admin import open_section
from tests.factories import NOW
from tickets import admin
from tickets.accounts import User
from tickets.api_keys import ApiKey, create_key, hash_key

pytestmark = pytest.mark.browser
# The administration console's own fixtures: signed in as root, configuration restored after.
base, _config_restored = test_admin.base, test_admin._config_restored

XSS = "<img src=x onerror=alert(1)>"
STREET_LIGHT = {"service_code": "do_thi", "lat": "10.981331", "long": "106.651236",  # Phường Phú Cường
                "description": "Đèn đường không sáng ở hẻm 12 đường Yersin, tối om nguy hiểm"}


@pytest.fixture
def outsider(browser):
    """An outside Open311 client: its own HTTP context, with no console session or cookie."""
    context = browser.new_context()
    yield context.request
    context.close()


def the_admin(session) -> User:
    return session.scalar(select(User).where(User.username == "root"))


def open311_post(outsider, base: str, key: str) -> int:
    return outsider.post(f"{base}/open311/v2/requests.json", form={"api_key": key, **STREET_LIGHT}).status


def reload_keys(page) -> None:
    """Load the page again (going to the same #api_keys address would not)."""
    page.reload()
    wait_live(page)
    page.wait_for_selector('table.adm-table[data-section="api_keys"], #adm-body .empty:not(:has-text("…"))')


def issue(page, name: str, *scopes: str) -> None:
    page.click("#adm-new")
    page.fill("#f-name", name)
    for scope in scopes:
        page.check(f'#f-scopes input[value="{scope}"]')
    page.click("#drawer-save")


def test_an_admin_issues_a_key_sees_it_once_and_revoking_it_stops_it_at_once(page, base, outsider, screenshot):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    open_section(page, base, "api_keys")
    page.click("#adm-new")
    assert page.inner_text('label:has(input[value="open311"])').strip() == "Tạo yêu cầu Open311"
    page.fill("#f-name", "zalo-app")
    page.check('#f-scopes input[value="open311"]')
    page.click("#drawer-save")

    page.wait_for_selector("#key-issued:not([hidden])")
    key = page.inner_text("#key-value").strip()
    assert key.startswith("hk_") and len(key) == 46
    assert "sẽ không được hiển thị lại" in page.inner_text("#key-warning")
    page.click("#key-copy")
    page.wait_for_selector("#key-copied:has-text('Đã chép')")
    assert page.evaluate("navigator.clipboard.readText()") == key
    row = page.locator('tr[data-key="zalo-app"]').first  # the table behind has the new key
    row.wait_for()
    assert row.inner_text().count(key[:8] + "…") == 1 and key[8:] not in row.inner_text()
    screenshot("console-admin-api-key-issued")

    page.click("#drawer-cancel")  # now labelled "Close"
    assert page.is_hidden("#adm-drawer")
    assert key[8:] not in page.content()
    assert key[8:] not in page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
    page.click("#adm-new")  # a new drawer never shows the old key
    assert page.is_hidden("#key-issued") and page.inner_text("#key-value") == ""
    page.keyboard.press("Escape")

    assert open311_post(outsider, base, key) == 201
    reload_keys(page)
    assert page.inner_text('tr[data-key="zalo-app"] td[data-col="last_used"]').strip() != "Chưa dùng"
    assert page.inner_text('tr[data-key="zalo-app"] td[data-col="f_scopes"]').strip() == "Tạo yêu cầu Open311"
    page.evaluate("window.scrollTo(0, 0)")
    screenshot("console-admin-api-keys")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Thu hồi zalo-app").click()
    page.wait_for_selector('tr[data-key="zalo-app"] td[data-col="status"] .badge.red:has-text("Đã thu hồi")')
    assert page.locator('tr[data-key="zalo-app"] td.act button').count() == 0
    assert open311_post(outsider, base, key) == 403

    reload_keys(page)  # revoked keys are listed only on request
    assert page.locator('tr[data-key="zalo-app"]').count() == 0
    page.check("#adm-inactive")
    page.wait_for_selector('tr.off[data-key="zalo-app"]')

    open_section(page, base, "audit")
    page.select_option("#a-entity", "api_key")
    page.click('#audit-filters button[type=submit]')
    page.wait_for_function("() => document.querySelectorAll('#adm-body tr[data-entity=api_key]').length === 2")
    revoked, created = page.locator('#adm-body tr[data-entity="api_key"]').all()
    assert "Khóa API" in created.inner_text() and "Tạo yêu cầu Open311" in created.inner_text()
    assert "đã thu hồi" in revoked.inner_text()
    assert key[8:] not in page.content()


def test_a_used_name_and_a_missing_scope_are_explained_next_to_their_fields(page, base, session):
    create_key(session, the_admin(session), NOW, name="zalo-app", scopes="open311")
    session.commit()
    open_section(page, base, "api_keys")

    issue(page, "ZALO-APP", "read")  # names are compared without regard to case
    page.wait_for_selector("#f-name-error:not([hidden])")
    assert page.inner_text("#f-name-error").strip() == "Đã có khóa khác mang tên này (tên không bao giờ được dùng lại)."
    assert page.get_attribute("#f-name", "aria-invalid") == "true"
    assert page.is_hidden("#key-issued")

    page.fill("#f-name", "cong-thong-tin")
    page.uncheck('#f-scopes input[value="read"]')
    page.click("#drawer-save")
    page.wait_for_selector("#f-scopes-error:not([hidden])")
    assert page.inner_text("#f-scopes-error").strip() == "Hãy chọn ít nhất một."
    assert page.is_hidden("#key-issued")
    page.keyboard.press("Escape")
    assert page.locator("table.adm-table tbody tr").count() == 1


def test_a_key_name_holding_html_shows_as_text(page, base, session):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    # The API refuses such a name; a key written by other means (SQL) must still show as text.
    session.add(ApiKey(name=XSS, scopes="read", key_prefix="hk_abcd1", key_hash=hash_key("hk_abcd1-test"),
                       created_at=NOW))
    session.commit()

    open_section(page, base, "api_keys")
    cell = page.locator('table.adm-table td[data-col="f_name"]').first
    cell.wait_for()
    assert cell.inner_text() == XSS
    assert page.locator("#adm-body img").count() == 0

    issue(page, XSS, "open311")
    page.wait_for_selector("#f-name-error:not([hidden])")
    assert page.inner_text("#f-name-error").strip().startswith("2–80 chữ cái")
    assert page.input_value("#f-name") == XSS
    assert page.locator("#adm-drawer img, #adm-body img").count() == 0 and dialogs == []


def test_the_hospitals_table_shows_the_desk_sms_number_next_to_the_desk_phone(page, base, session):
    admin.update_hospital(session, the_admin(session), NOW, "BVDK_TINH", {"sms_phone": "0987 654 321"})
    session.commit()

    open_section(page, base, "hospitals")

    columns = page.locator("table.adm-table thead th").all_text_contents()
    assert columns.index("Số di động nhận SMS của trực cấp cứu") == columns.index("Điện thoại trực cấp cứu") + 1
    assert page.inner_text('tr[data-key="BVDK_TINH"] td[data-col="f_sms_phone"]') == "+84987654321"
