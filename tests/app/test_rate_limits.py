"""Rate limits on the public doors (app/rate_limits.py): failed sign-ins per address and per
account, tracking-code misses per address, Open311 per key; 429 with Retry-After in each
surface's own format; successful use never counted; Redis shared between processes and not
needed to stay up; the client address taken from a proxy only when one is trusted."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from sqlalchemy import text

from tests.factories import PASSWORD, make_ticket, make_user
from tickets.api_keys import issue_key
from tickets.db import utcnow

REDIS_URL = "redis://127.0.0.1:6379/14"
TOO_MANY_VI = "Bạn đã thử quá nhiều lần"
OPEN311_POST = {"service_code": "do_thi", "lat": "10.981331", "long": "106.651236",
                "description": "Đèn đường không sáng ở hẻm 12 đường Yersin"}


@pytest.fixture
def make_app(database_url: str, engine, session) -> Iterator[Callable[..., Any]]:
    """Apps on the test database with small limits (and any overrides); the tables are
    emptied afterwards by ``session``."""
    from app import create_app
    from app.database import db

    built = []

    def build(**overrides: Any):
        if built:
            db.engine.dispose()
        config = {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                  "WTF_CSRF_ENABLED": False, "REDIS_URL": None,
                  "RATELIMIT_SIGN_IN_ADDRESS": "5 per minute", "RATELIMIT_SIGN_IN_ACCOUNT": "3 per minute",
                  "RATELIMIT_TRACKING": "3 per minute", "RATELIMIT_OPEN311_SUBMIT": "2 per minute",
                  "RATELIMIT_OPEN311_READ": "4 per minute", **overrides}
        built.append(create_app(config))
        return built[-1]

    yield build
    if built:
        db.engine.dispose()


@pytest.fixture
def client(make_app):
    return make_app().test_client()


@pytest.fixture
def fresh_redis() -> Iterator[str]:
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield REDIS_URL
    connection.flushdb()


def sign_in(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def token(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post("/api/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def signed_in(client) -> bool:
    return client.get("/api/tickets").status_code == 200


def assert_refused_page(response) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert TOO_MANY_VI in response.get_data(as_text=True)


# ---- signing in ------------------------------------------------------------------------------

def test_failed_sign_ins_for_one_account_are_stopped_and_even_the_right_password_waits(client, session):
    user = make_user(session)
    for _ in range(3):
        assert sign_in(client, user.username, "wrong-password").status_code == 401

    refused = sign_in(client, user.username, PASSWORD)

    assert_refused_page(refused)
    assert 'name="username"' in refused.get_data(as_text=True)  # the form is still there
    assert not signed_in(client)


def test_the_account_count_follows_the_name_from_any_address_and_in_any_case(client, session):
    user = make_user(session, username="nguyen.van.an")
    for n, name in enumerate(("nguyen.van.an", "NGUYEN.VAN.AN", " Nguyen.Van.An ")):
        sign_in(client, name, "wrong-password", address=f"10.0.1.{n}")

    assert sign_in(client, user.username, PASSWORD, address="10.0.9.9").status_code == 429


def test_another_account_from_the_same_address_is_not_held_up_by_the_account_limit(client, session):
    target, colleague = make_user(session), make_user(session)
    for _ in range(3):
        sign_in(client, target.username, "wrong-password")

    assert sign_in(client, colleague.username, PASSWORD).status_code == 302
    assert signed_in(client)


def test_one_address_guessing_many_accounts_is_stopped_by_the_address_limit(client, session):
    user = make_user(session)
    for n in range(5):
        assert sign_in(client, f"guess{n}", "wrong-password").status_code == 401

    assert sign_in(client, user.username, PASSWORD).status_code == 429
    # Another address (a colleague behind another NAT) is not affected.
    assert sign_in(client, user.username, PASSWORD, address="10.0.0.2").status_code == 302


def test_successful_sign_ins_are_never_counted(client, session):
    user = make_user(session)
    for _ in range(12):  # well over both limits
        assert sign_in(client, user.username, PASSWORD).status_code == 302
        client.post("/logout")
        assert token(client, user.username, PASSWORD).status_code == 200


def test_the_token_api_shares_the_count_and_refuses_in_json(client, session):
    user = make_user(session)
    sign_in(client, user.username, "wrong-password")
    sign_in(client, user.username, "wrong-password")
    assert token(client, user.username, "wrong-password").status_code == 401

    refused = token(client, user.username, PASSWORD)

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    error = refused.get_json()["error"]
    assert error["code"] == "rate_limited" and "try again in" in error["message"]
    assert session.execute(text("SELECT count(*) FROM api_tokens")).scalar_one() == 0


def test_the_refusal_is_in_english_for_an_english_reader(client, session):
    user = make_user(session)
    client.get("/lang/en")
    for _ in range(3):
        sign_in(client, user.username, "wrong-password")

    page = sign_in(client, user.username, PASSWORD).get_data(as_text=True)

    assert "Too many attempts. Please try again in" in page


# ---- the public tracking lookup ---------------------------------------------------------------

def test_a_citizen_looking_up_their_own_code_is_never_refused(client, session):
    ticket = make_ticket(session)
    for _ in range(10):
        assert client.get(f"/track/{ticket.code}").status_code == 200
        assert client.get(f"/api/public/track/{ticket.code}").status_code == 200


def test_guessing_codes_is_stopped_on_the_page_and_the_api_alike(client, session):
    ticket = make_ticket(session)
    for guess in ("AAAA2222", "AAAA2223"):
        assert client.get(f"/track/{guess}").status_code == 404
    assert client.get("/api/public/track/AAAA2224").status_code == 404

    page = client.get(f"/track/{ticket.code}")
    api = client.get(f"/api/public/track/{ticket.code}")

    assert_refused_page(page)
    assert ticket.code[:4] not in page.get_data(as_text=True)  # nothing of the ticket is shown
    assert api.status_code == 429 and api.get_json()["error"]["code"] == "rate_limited"


# ---- Open311 ------------------------------------------------------------------------------------

def test_an_open311_client_is_limited_per_key_in_the_specification_s_error_format(client, session):
    _, first = issue_key(session, "client-a", "open311", utcnow())
    _, second = issue_key(session, "client-b", "open311", utcnow())
    session.commit()
    for _ in range(2):
        assert client.post("/open311/v2/requests.json", data={**OPEN311_POST, "api_key": first}).status_code == 201

    refused = client.post("/open311/v2/requests.json", data={**OPEN311_POST, "api_key": first})
    in_xml = client.post("/open311/v2/requests.xml", data={**OPEN311_POST, "api_key": first})

    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    [error] = refused.get_json()
    assert error["code"] == 429 and "try again in" in error["description"]
    assert in_xml.status_code == 429
    assert ET.fromstring(in_xml.data).find("error/code").text == "429"  # noqa: S314 - our own answer
    assert session.execute(text("SELECT count(*) FROM tickets")).scalar_one() == 2
    # Another client's key has its own count.
    assert client.post("/open311/v2/requests.json", data={**OPEN311_POST, "api_key": second}).status_code == 201


def test_reading_open311_is_limited_per_address_across_its_endpoints(client):
    for path in ("discovery.json", "services.json", "requests.json", "services/do_thi.json"):
        assert client.get(f"/open311/v2/{path}").status_code == 200

    assert client.get("/open311/v2/requests.json").status_code == 429
    assert client.get("/open311/v2/services.json", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 200


# ---- where the counts live ----------------------------------------------------------------------

def test_with_redis_every_process_draws_on_one_count(make_app, session, fresh_redis):
    user = make_user(session)
    first = make_app(REDIS_URL=fresh_redis, RATELIMIT_KEY_PREFIX="rl-test").test_client()
    second = make_app(REDIS_URL=fresh_redis, RATELIMIT_KEY_PREFIX="rl-test").test_client()
    sign_in(first, user.username, "wrong-password")
    sign_in(second, user.username, "wrong-password")
    sign_in(first, user.username, "wrong-password")

    assert sign_in(second, user.username, PASSWORD).status_code == 429
    assert redis.Redis.from_url(fresh_redis).keys("*/rl-test/*")  # the counts are in Redis


def test_with_redis_down_signing_in_still_works_and_is_still_limited(make_app, session):
    user = make_user(session)
    client = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client()  # nothing listens there

    assert sign_in(client, user.username, PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(3):
        assert sign_in(client, user.username, "wrong-password").status_code == 401
    assert sign_in(client, user.username, PASSWORD).status_code == 429


def test_limits_can_be_switched_off(make_app, session):
    user = make_user(session)
    client = make_app(RATELIMIT_ENABLED=False).test_client()
    for _ in range(8):
        assert sign_in(client, user.username, "wrong-password").status_code == 401
    assert sign_in(client, user.username, PASSWORD).status_code == 302


# ---- the client's address behind a proxy -------------------------------------------------------

def test_without_a_trusted_proxy_a_forwarded_header_cannot_dodge_the_limit(client, session):
    for n in range(5):
        client.post("/login", data={"username": f"guess{n}", "password": "x"},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})

    refused = client.post("/login", data={"username": "guess9", "password": "x"},
                          headers={"X-Forwarded-For": "203.0.113.99"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert refused.status_code == 429


def test_behind_a_trusted_proxy_each_citizen_is_counted_by_their_own_address(make_app):
    client = make_app(TRUSTED_PROXY_HOPS=1).test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.254"}  # every request arrives from the proxy
    for guess in ("AAAA2222", "AAAA2223", "AAAA2224"):
        client.get(f"/track/{guess}", headers={"X-Forwarded-For": "203.0.113.5"}, environ_base=proxy)

    assert client.get("/track/AAAA2225", headers={"X-Forwarded-For": "203.0.113.5"},
                      environ_base=proxy).status_code == 429
    assert client.get("/track/AAAA2225", headers={"X-Forwarded-For": "198.51.100.8"},
                      environ_base=proxy).status_code == 404
