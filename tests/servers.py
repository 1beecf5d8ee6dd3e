"""The app behind a real threaded HTTP server, for tests whose requests must truly overlap
(the test client runs one request at a time, so it cannot show a race)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve ``app`` on a free local port, one thread per request; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="served-app", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def post_form(url: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """POST ``fields`` form-encoded; the status and body (also of a 4xx/5xx answer)."""
    return _post(url, urllib.parse.urlencode(fields).encode(),
                 {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})


def post_json(url: str, body: object, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """POST ``body`` as JSON; the status and body (also of a 4xx/5xx answer)."""
    return _post(url, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})})


def _post(url: str, data: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)  # noqa: S310 - our own server
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own test server
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
