"""A person signs in and sees their tickets, in Vietnamese, with user text shown as text."""

from __future__ import annotations

import pytest

from tests.browser.helpers import sign_in
from tests.factories import make_ticket, make_user

pytestmark = pytest.mark.browser


def test_login_page_speaks_vietnamese_even_to_an_english_browser(page, live_server, screenshot):
    page.goto(f"{live_server}/login")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_role("heading", name="Đăng nhập").is_visible()
    screenshot("login")


def test_wrong_password_shows_a_message_and_stays_on_the_login_page(page, live_server, session):
    make_user(session, "operator", username="lan")
    sign_in(page, live_server, "lan", "not-the-password")
    assert page.get_by_role("alert").inner_text() == "Sai tên đăng nhập hoặc mật khẩu."
    assert page.url.startswith(f"{live_server}/login")


def test_operator_signs_in_and_sees_tickets_with_user_text_escaped(page, live_server, session, screenshot):
    make_user(session, "operator", username="lan", display_name="Nguyễn Thị Lan")
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    make_ticket(session, description=payload)
    make_ticket(session, description="Đèn đường không sáng ở hẻm 12, phường Phú Cường")
    fired = []
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))

    sign_in(page, live_server, "lan")

    assert page.url == f"{live_server}/"
    assert page.get_by_text("Nguyễn Thị Lan · Tổng đài viên").is_visible()
    rows = page.locator("table.tickets tbody tr")
    assert rows.count() == 2
    assert page.get_by_text(payload).is_visible()  # shown literally, as text
    assert page.evaluate("window.__xss") is None and not fired
    screenshot("home-operator")


def test_language_switch_to_english_and_back(page, live_server, session):
    make_user(session, "supervisor", username="binh")
    sign_in(page, live_server, "binh")
    page.get_by_role("link", name="EN").click()
    assert page.get_by_role("heading", name="Tickets").is_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="VI").click()
    assert page.get_by_role("heading", name="Phiếu yêu cầu").is_visible()
