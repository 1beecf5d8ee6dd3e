"""A person signs in and lands on their console, in Vietnamese, with user text shown as text."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in, wait_live
from tests.factories import make_ticket, make_user

pytestmark = pytest.mark.browser


def test_login_page_speaks_vietnamese_even_to_an_english_browser(live_server, page, screenshot):
    page.goto(f"{live_server}/login")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_role("heading", name="Đăng nhập").is_visible()
    screenshot("login")


def test_wrong_password_shows_a_message_and_stays_on_the_login_page(db, live_server, page):
    make_user(db, "operator", username="lan")
    sign_in(page, live_server, "lan", "not-the-password")
    assert page.get_by_role("alert").inner_text() == "Sai tên đăng nhập hoặc mật khẩu."
    assert page.url.startswith(f"{live_server}/login")


def test_operator_signs_in_to_the_console_and_sees_the_queue_with_user_text_escaped(db, live_server, page,
                                                                                    screenshot):
    make_user(db, "operator", username="lan", display_name="Nguyễn Thị Lan")
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    make_ticket(db, description=payload)
    make_ticket(db, description="Đèn đường không sáng ở hẻm 12, phường Phú Cường")
    fired = []
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))

    sign_in(page, live_server, "lan")

    assert page.url == f"{live_server}/console"  # operators land on their console
    wait_live(page)
    assert page.get_by_text("Nguyễn Thị Lan · Tổng đài viên").is_visible()
    items = page.locator("#queue-list .q-item")
    expect(items).to_have_count(2)
    expect(page.locator("#queue-list")).to_contain_text(payload[:40])  # shown literally, as text
    assert page.locator("#queue-list img").count() == 0
    items.filter(has_text="onerror").click()
    expect(page.locator("#f-description")).to_have_value(payload)
    assert page.evaluate("window.__xss") is None and not fired
    screenshot("home-operator")


def test_language_switch_to_english_and_back_on_the_console(db, live_server, page):
    make_user(db, "operator", username="lan")
    make_ticket(db, description="Cây xanh ngã đổ chắn lối đi")
    sign_in(page, live_server, "lan")
    wait_live(page)
    expect(page.locator("#queue-list .status")).to_have_text("Mới")

    page.get_by_role("link", name="EN").click()

    assert page.locator("html").get_attribute("lang") == "en"
    wait_live(page)
    expect(page.locator("#queue-list .status")).to_have_text("New")
    assert page.get_by_role("button", name="Sign out").is_visible()
    page.get_by_role("link", name="VI").click()
    assert page.locator("html").get_attribute("lang") == "vi"
    expect(page.locator("#queue-list .status")).to_have_text("Mới")
    assert page.get_by_role("button", name="Đăng xuất").is_visible()
