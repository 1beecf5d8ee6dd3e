"""Signing in: the Vietnamese-first login page, sessions, safe redirects, hashed passwords,
CSRF for cookie sessions (not for bearer tokens), API tokens stored as SHA-256 only, and
deactivated accounts shut out everywhere."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select, text

from tests.factories import PASSWORD, make_user
from tickets.accounts import ApiToken, User

WRONG_PASSWORD_VI = "Sai tên đăng nhập hoặc mật khẩu."
TICKET = {"line": "1022", "channel": "web", "description": "Cây đổ chắn đường"}


def sign_in(client, username: str, password: str = PASSWORD, next_url: str | None = None, **extra):
    path = "/login" if next_url is None else f"/login?next={next_url}"
    return client.post(path, data={"username": username, "password": password, **extra})


def signed_in(client) -> bool:
    """Whether the client's cookie session lets it read the API."""
    return client.get("/api/tickets").status_code == 200


def ticket_count(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM ticket_events)")).one())


def csrf_token_of(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def deactivate(engine, username: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET active = :no WHERE username = :u"),
                     {"no": False, "u": username})


# ---- the login page and language ---------------------------------------------------------

def test_the_login_page_speaks_vietnamese_first(client):
    response = client.get("/login")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Đăng nhập" in page
    assert "Sign in" not in page


def test_lang_en_switches_the_pages_to_english_and_lang_vi_back(client):
    assert client.get("/lang/en").status_code == 302

    english = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Sign in" in english and "Đăng nhập" not in english

    client.get("/lang/vi")
    assert "Đăng nhập" in client.get("/login").get_data(as_text=True)


def test_an_unknown_language_is_ignored(client):
    client.get("/lang/fr")
    assert '<html lang="vi">' in client.get("/login").get_data(as_text=True)


def test_the_language_switch_does_not_redirect_to_another_site(client):
    response = client.get("/lang/en", headers={"Referer": "http://evil.example/phish"})

    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


# ---- signing in and out ------------------------------------------------------------------

def test_signing_in_redirects_home_and_the_session_works_for_the_api(client, session):
    make_user(session, "operator", username="lan")
    assert not signed_in(client)

    response = sign_in(client, "lan")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in(client)
    assert client.get("/").headers["Location"] == "/console"  # each role starts on its console
    assert client.get("/console").status_code == 200


def test_a_wrong_password_is_401_with_a_vietnamese_message_and_no_session(client, session):
    make_user(session, "operator", username="lan")

    response = sign_in(client, "lan", "not-the-password")

    assert response.status_code == 401
    assert WRONG_PASSWORD_VI in response.get_data(as_text=True)
    assert not signed_in(client)


def test_an_unknown_username_reads_the_same_as_a_wrong_password(client):
    response = sign_in(client, "nobody")

    assert response.status_code == 401
    assert WRONG_PASSWORD_VI in response.get_data(as_text=True)
    assert not signed_in(client)


def test_a_relative_next_is_honoured(client, session):
    make_user(session, "operator", username="lan")

    response = sign_in(client, "lan", next_url="/api/tickets?status=new")

    assert response.status_code == 302
    assert response.headers["Location"] == "/api/tickets?status=new"


@pytest.mark.parametrize("target", [
    "http://evil.example/", "https://evil.example/login", "//evil.example/", "evil.example",
    "javascript:alert(1)",
    "/\\evil.example/",
])
def test_a_next_pointing_elsewhere_is_ignored(client, session, target):
    make_user(session, "operator", username="lan")

    response = client.post("/login", query_string={"next": target},
                           data={"username": "lan", "password": PASSWORD})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_the_home_page_sends_strangers_to_the_login_page(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_logout_is_post_only(client, session):
    make_user(session, "operator", username="lan")
    sign_in(client, "lan")

    assert client.get("/logout").status_code == 405
    assert signed_in(client)

    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert not signed_in(client)


def test_passwords_are_stored_hashed(session):
    user = make_user(session, "operator", username="lan")

    stored = session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored != PASSWORD and PASSWORD not in stored
    assert stored.startswith(("scrypt:", "pbkdf2:"))
    assert user.check_password(PASSWORD) and not user.check_password("guess")


# ---- CSRF (an app with it turned on) -----------------------------------------------------

@pytest.fixture
def csrf_app(database_url, engine):
    from app import create_app

    application = create_app({"TESTING": True, "DATABASE_URL": database_url,
                              "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": True})
    yield application
    application.extensions["database"].engine.dispose()


def test_the_login_form_refuses_a_post_without_its_csrf_token(csrf_app, session):
    make_user(session, "operator", username="lan")
    client = csrf_app.test_client()

    refused = sign_in(client, "lan")

    assert refused.status_code in (302, 400)
    assert refused.headers.get("Location") != "/"
    assert not signed_in(client)

    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    accepted = sign_in(client, "lan", csrf_token=token)
    assert (accepted.status_code, accepted.headers["Location"]) == (302, "/")
    assert signed_in(client)


def test_a_cookie_session_api_write_needs_the_csrf_header(csrf_app, session, engine):
    make_user(session, "operator", username="lan")
    client = csrf_app.test_client()
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    assert sign_in(client, "lan", csrf_token=token).status_code == 302
    before = ticket_count(engine)

    refused = client.post("/api/tickets", json=TICKET)

    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    assert ticket_count(engine) == before

    accepted = client.post("/api/tickets", json=TICKET, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201, accepted.get_json()
    assert ticket_count(engine) == (before[0] + 1, before[1] + 1)


def test_a_bearer_token_write_needs_no_csrf(csrf_app, session, engine):
    make_user(session, "operator", username="lan")
    client = csrf_app.test_client()

    issued = client.post("/api/auth/token", json={"username": "lan", "password": PASSWORD})
    assert issued.status_code == 200, issued.get_json()
    response = client.post("/api/tickets", json=TICKET,
                           headers={"Authorization": f"Bearer {issued.get_json()['token']}"})

    assert response.status_code == 201, response.get_json()
    assert ticket_count(engine)[0] == 1


# ---- API tokens --------------------------------------------------------------------------

def test_a_token_is_issued_for_the_right_password_and_stored_only_as_its_sha256(client, session):
    user = make_user(session, "operator", username="lan")

    response = client.post("/api/auth/token", json={"username": "lan", "password": PASSWORD})

    assert response.status_code == 200
    body = response.get_json()
    token = body["token"]
    assert len(token) >= 32
    assert body["expires_at"].endswith("+07:00")
    stored = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    assert [t.token_hash for t in stored] == [hashlib.sha256(token.encode()).hexdigest()]
    assert stored[0].token_hash != token
    assert client.get("/api/tickets", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize(("username", "password"), [("lan", "wrong-password"), ("nobody", PASSWORD)])
def test_a_token_for_wrong_credentials_is_401_json(client, session, username, password):
    make_user(session, "operator", username="lan")

    response = client.post("/api/auth/token", json={"username": username, "password": password})

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"
    assert session.scalar(select(ApiToken.id)) is None


def test_the_token_request_must_be_a_username_and_a_password(client):
    response = client.post("/api/auth/token", json={"username": "lan"})

    assert response.status_code == 400
    assert "password" in response.get_json()["error"]["fields"]


# ---- deactivated accounts ----------------------------------------------------------------

def test_an_inactive_user_can_neither_sign_in_nor_get_a_token(client, session, engine):
    make_user(session, "operator", username="lan")
    deactivate(engine, "lan")

    assert sign_in(client, "lan").status_code == 401
    assert not signed_in(client)
    response = client.post("/api/auth/token", json={"username": "lan", "password": PASSWORD})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"


def test_deactivating_a_user_ends_their_session_and_their_tokens(client, app, session, engine):
    make_user(session, "operator", username="lan")
    issued = client.post("/api/auth/token", json={"username": "lan", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {issued.get_json()['token']}"}
    sign_in(client, "lan")
    assert signed_in(client)

    deactivate(engine, "lan")

    assert not signed_in(client)
    assert app.test_client().get("/api/tickets", headers=bearer).status_code == 401
