"""`flask apikeys` (CONTRACT.md, Commands): create prints the key once, list never shows it,
revoke stops it at once, and a name in use is refused rather than overwritten."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tickets import api_keys
from tickets.api_keys import verify_key
from tickets.db import utcnow

KEY = re.compile(r"hk_[A-Za-z0-9_-]{43}")


@pytest.fixture
def cli(app, runner):
    """Run a command as `flask --app wsgi …` would: with the app's context pushed."""

    def invoke(*args: str):
        with app.app_context():
            return runner.invoke(args=["apikeys", *args])

    return invoke


def rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_create_prints_the_key_once_with_a_warning_and_stores_only_its_hash(cli, engine, session):
    result = cli("create", "zalo-app", "--scopes", "open311,read")

    assert result.exit_code == 0, result.output
    keys = KEY.findall(result.output)
    assert len(keys) == 1
    assert "will not be shown again" in result.output
    assert verify_key(session, keys[0], "open311", utcnow()).scope_list == ["open311", "read"]
    assert rows(engine, "SELECT name, scopes, key_prefix FROM api_keys") == [("zalo-app", "open311,read", keys[0][:8])]
    assert keys[0] not in str(rows(engine, "SELECT * FROM api_keys"))


def test_list_shows_prefix_scopes_and_dates_but_never_the_key(cli):
    created = cli("create", "zalo-app", "--scopes", "open311")
    key = KEY.findall(created.output)[0]
    cli("create", "smartcity", "--scopes", "read")
    cli("revoke", "smartcity")

    listed = cli("list")

    assert listed.exit_code == 0, listed.output
    assert key not in listed.output and key[8:] not in listed.output
    lines = {line.split()[0]: line for line in listed.output.splitlines()[1:]}
    assert set(lines) == {"zalo-app", "smartcity"}
    assert key[:8] in lines["zalo-app"] and "open311" in lines["zalo-app"]
    assert lines["zalo-app"].rstrip().endswith("-")  # not revoked
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d$", lines["smartcity"].rstrip())  # revoked, with its date


def test_reusing_a_name_is_an_error_and_the_first_key_keeps_working(cli, engine, session):
    first = KEY.findall(cli("create", "zalo-app", "--scopes", "open311").output)[0]

    again = cli("create", "zalo-app", "--scopes", "open311,read")

    assert again.exit_code != 0
    assert "already used" in again.output
    assert not KEY.findall(again.output)
    assert rows(engine, "SELECT count(*) FROM api_keys") == [(1,)]
    assert verify_key(session, first, "open311", utcnow()) is not None


def test_a_name_differing_only_by_case_is_refused_by_the_database_too(cli, engine, monkeypatch):
    cli("create", "zalo-app", "--scopes", "open311")
    monkeypatch.setattr(api_keys, "find_key", lambda _session, _name: None)  # as if another process raced us

    again = cli("create", "ZALO-APP", "--scopes", "read")

    assert again.exit_code != 0
    assert "already used by another key" in again.output
    assert not KEY.findall(again.output)
    assert rows(engine, "SELECT name FROM api_keys") == [("zalo-app",)]


@pytest.mark.parametrize("scopes", ["admin", "open311,tickets", ""])
def test_an_unknown_scope_is_refused_and_nothing_is_written(cli, engine, scopes):
    result = cli("create", "zalo-app", "--scopes", scopes)

    assert result.exit_code != 0
    assert "scopes" in result.output
    assert rows(engine, "SELECT count(*) FROM api_keys") == [(0,)]


def test_revoke_stops_the_key_at_once_and_an_unknown_name_is_an_error(cli, session):
    key = KEY.findall(cli("create", "zalo-app", "--scopes", "open311").output)[0]

    revoked = cli("revoke", "zalo-app")
    unknown = cli("revoke", "nobody")

    assert revoked.exit_code == 0 and "Revoked zalo-app" in revoked.output
    assert verify_key(session, key, "open311", utcnow()) is None
    assert unknown.exit_code != 0 and "nobody" in unknown.output


def test_the_command_line_leaves_an_audit_trail_without_the_key(cli, engine):
    key = KEY.findall(cli("create", "zalo-app", "--scopes", "open311").output)[0]
    cli("revoke", "zalo-app")

    trail = rows(engine, "SELECT entity, entity_key, action, actor_label FROM audit_log ORDER BY id")
    assert trail == [("api_key", "zalo-app", "create", "flask apikeys"),
                     ("api_key", "zalo-app", "deactivate", "flask apikeys")]
    assert key[8:] not in str(rows(engine, "SELECT * FROM audit_log"))
