"""Browser fixtures: the app served on a free local port, and headless Debian Chromium."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@pytest.fixture
def app(database_url: str, engine):
    """The app as a browser meets it: CSRF on, Twilio configured (webhooks are signed with
    the test token), 1022 staffed around the clock, jobs and Socket.IO in this process."""
    from app import create_app
    from app.extensions import socketio
    from tests.conftest import _empty_transactional_tables
    from tests.telephony.conftest import base_config

    socketio.server_options.pop("client_manager", None)
    application = create_app(base_config(database_url, WTF_CSRF_ENABLED=True))
    yield application
    application.extensions["database"].engine.dispose()
    _empty_transactional_tables(engine)


@pytest.fixture
def twilio(app):
    """Posts signed Twilio webhooks to the app under test (see tests/telephony/conftest.py)."""
    from tests.telephony.conftest import TwilioClient

    return TwilioClient(app)


@pytest.fixture
def db(engine):
    """The test's own session, in autocommit: it holds no transaction (and so no lock) while
    the server answers the browser. Ask for it before ``live_server`` so it closes last."""
    from sqlalchemy.orm import Session

    with Session(engine.execution_options(isolation_level="AUTOCOMMIT")) as session:
        yield session


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The test app served over real HTTP; yields its base URL.

    On teardown it stops the server, turns away any request still arriving (a browser's
    kept-alive HTTP/1.1 connection outlives ``shutdown()`` and may still ask for a ticket),
    then waits for requests still being answered (Socket.IO long-polls aside), so that the
    tables are emptied afterwards with no request reading them — emptying under a running
    request can deadlock.
    """
    busy, lock, inner, closing = [0], threading.Lock(), app.wsgi_app, [False]

    def counting(environ, start_response):
        long_poll = environ.get("PATH_INFO", "").startswith("/socket.io")
        with lock:  # checked and counted at once: teardown sees either the refusal or the count
            refused = closing[0]
            if not (refused or long_poll):
                busy[0] += 1
        if refused:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Connection", "close")])
            return [b"test server closing"]
        if long_poll:
            return inner(environ, start_response)
        body = None
        try:
            body = inner(environ, start_response)
            return list(body)
        finally:
            if hasattr(body, "close"):
                body.close()  # as a WSGI server must
            with lock:
                busy[0] -= 1

    app.wsgi_app = counting
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    with lock:
        closing[0] = True
    server.shutdown()
    thread.join()
    deadline = time.monotonic() + 20
    while busy[0] and time.monotonic() < deadline:
        time.sleep(0.05)
    app.wsgi_app = inner


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A page at 1366×768. Anything the Content-Security-Policy refuses on it (a script,
    style, image or connection the app did not mean to need) fails the test that saw it."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    refused: list[str] = []
    context.on("console", lambda message: refused.append(message.text)
               if "Content Security Policy" in message.text else None)
    pg = context.new_page()
    yield pg
    context.close()
    assert not refused, "refused by the Content-Security-Policy:\n" + "\n".join(refused)


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under screenshots/NAME.png (looked at by a person)."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
