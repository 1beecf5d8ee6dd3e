"""Security headers on every answer (app/security_headers.py): a strict Content-Security-Policy
widened only by what the deployment configures, no framing, no sniffing, no referrer outside
the site, HSTS only over HTTPS."""

from __future__ import annotations

import pytest

from app.security_headers import policy

STRICT = {"default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "connect-src": "'self'",
          "object-src": "'none'", "frame-ancestors": "'none'", "base-uri": "'self'", "form-action": "'self'"}


def directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize("path", ["/login", "/track", "/api/directory/categories", "/healthz",
                                  "/open311/v2/services.json"])
def test_every_answer_carries_the_strict_policy_and_the_other_headers(client, path):
    response = client.get(path)

    assert STRICT.items() <= directives(response).items()
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"  # tracking codes stay in the site
    assert "microphone=(self)" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: HSTS means nothing


def test_a_twiml_answer_carries_them_too(client):
    response = client.post("/twilio/voice")  # unsigned: refused, but with the headers
    assert response.headers["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in response.headers


def test_over_https_behind_a_trusted_proxy_hsts_is_sent(database_url, engine):
    from app import create_app

    proxied = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                          "TRUSTED_PROXY_HOPS": 1})
    try:
        response = proxied.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    finally:
        proxied.extensions["database"].engine.dispose()

    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_map_tile_server_is_allowed_for_images_only():
    tiles = policy({"MAP_TILE_URL": "https://tiles.binhduong.gov.vn/{z}/{x}/{y}.png"})
    subdomains = policy({"MAP_TILE_URL": "https://{s}.tile.example.vn/{z}/{x}/{y}.png"})

    assert tiles["img-src"] == "'self' data: https://tiles.binhduong.gov.vn"
    assert subdomains["img-src"] == "'self' data: https://*.tile.example.vn"
    assert tiles["connect-src"] == tiles["script-src"] == "'self'"


def test_the_softphone_opens_twilio_for_signalling_and_sounds_only_when_configured():
    configured = {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_API_KEY": "SK1", "TWILIO_API_SECRET": "s",
                  "TWILIO_TWIML_APP_SID": "AP1"}

    with_softphone = policy(configured)
    half_configured = policy({**configured, "TWILIO_API_SECRET": None})

    assert with_softphone["connect-src"] == "'self' https://*.twilio.com wss://*.twilio.com"
    assert with_softphone["media-src"] == "'self' https://*.twilio.com"
    assert with_softphone["script-src"] == "'self'"  # the SDK is served by the app (vendored)
    assert half_configured["connect-src"] == "'self'"
