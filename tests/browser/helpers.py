"""What browser tests share: signing in through the real form, and waiting for the live link."""

from __future__ import annotations

from tests.factories import PASSWORD


def sign_in(page, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form (Vietnamese labels: the default language)."""
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def wait_live(page, timeout: float = 10_000) -> None:
    """Wait until the console's Socket.IO connection is up (its state badge says so)."""
    page.wait_for_selector("#live-state[data-state=connected]", timeout=timeout)
