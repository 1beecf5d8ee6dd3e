"""API keys for outside clients: issued once in clear, stored only as a hash, checked by scope,
revocable, and administered only by administrators, with an audit trail that holds no secret."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from tests.factories import NOW, make_user
from tickets.api_keys import ApiKey, create_key, issue_key, list_keys, revoke_key, verify_key, withdraw_key
from tickets.audit import AuditEntry
from tickets.errors import Forbidden, NotFound, ValidationFailed
from tickets.permissions import SystemActor


def stored_row(session, name: str) -> dict:
    """The api_keys row as the database holds it, every column."""
    return dict(session.execute(text("SELECT * FROM api_keys WHERE name = :n"), {"n": name}).mappings().one())


def test_a_key_is_random_prefixed_and_returned_in_clear_only_once(session):
    key, plaintext = issue_key(session, "zalo-app", "open311", NOW)
    other, other_plaintext = issue_key(session, "smartcity", ["open311", "read"], NOW)
    session.commit()

    assert plaintext.startswith("hk_") and len(plaintext) >= 3 + 43  # 32 random bytes, URL-safe
    assert plaintext != other_plaintext
    assert key.key_prefix == plaintext[:8]
    assert (key.scope_list, other.scope_list) == (["open311"], ["open311", "read"])


def test_only_the_hash_is_stored_and_the_key_is_nowhere_in_the_row(session):
    _, plaintext = issue_key(session, "zalo-app", "open311,read", NOW)
    session.commit()

    row = stored_row(session, "zalo-app")
    assert row["key_hash"] == hashlib.sha256(plaintext.encode()).hexdigest()
    secret_part = plaintext[8:]  # everything but the displayed prefix
    for column, value in row.items():
        assert secret_part not in str(value), column
        assert plaintext not in str(value), column


def test_a_key_is_verified_for_the_scopes_it_holds_only(session):
    _, plaintext = issue_key(session, "zalo-app", "open311", NOW)
    session.commit()

    assert verify_key(session, plaintext, "open311", NOW).name == "zalo-app"
    assert verify_key(session, plaintext, None, NOW).name == "zalo-app"
    assert verify_key(session, plaintext, "read", NOW) is None
    assert verify_key(session, plaintext + "x", "open311", NOW) is None
    assert verify_key(session, plaintext[:-1], "open311", NOW) is None
    assert verify_key(session, "", "open311", NOW) is None
    assert verify_key(session, None, "open311", NOW) is None


def test_a_revoked_key_stops_working_and_keeps_its_revocation_date(session):
    _, plaintext = issue_key(session, "zalo-app", "open311", NOW)
    revoke_key(session, "zalo-app", NOW + timedelta(hours=1))
    again = revoke_key(session, "ZALO-APP", NOW + timedelta(hours=2))
    session.commit()

    assert verify_key(session, plaintext, "open311", NOW + timedelta(hours=3)) is None
    assert again.revoked_at == NOW + timedelta(hours=1)
    with pytest.raises(NotFound):
        revoke_key(session, "nobody", NOW)


def test_last_use_is_written_at_most_once_a_minute(session):
    _, plaintext = issue_key(session, "zalo-app", "open311", NOW)

    verify_key(session, plaintext, "open311", NOW)
    verify_key(session, plaintext, "open311", NOW + timedelta(seconds=30))
    assert session.scalar(select(ApiKey.last_used_at)) == NOW

    verify_key(session, plaintext, "open311", NOW + timedelta(seconds=61))
    assert session.scalar(select(ApiKey.last_used_at)) == NOW + timedelta(seconds=61)


@pytest.mark.parametrize("scopes", ["admin", "open311,write", "", [], ["read", "tickets"]])
def test_only_open311_and_read_are_scopes(session, scopes):
    with pytest.raises(ValidationFailed) as refused:
        issue_key(session, "zalo-app", scopes, NOW)

    assert "scopes" in refused.value.fields
    assert session.scalar(select(ApiKey.id)) is None


@pytest.mark.parametrize("name", ["", "x", "has space", "-leading-dash", "ü" * 3, "a" * 81])
def test_a_name_is_2_to_80_plain_characters(session, name):
    with pytest.raises(ValidationFailed) as refused:
        issue_key(session, name, "open311", NOW)
    assert "name" in refused.value.fields


def test_a_name_is_never_reused_even_in_other_case_or_after_revocation(session):
    issue_key(session, "zalo-app", "open311", NOW)
    revoke_key(session, "zalo-app", NOW)

    for name in ("zalo-app", "Zalo-App"):
        with pytest.raises(ValidationFailed) as refused:
            issue_key(session, name, "read", NOW)
        assert refused.value.fields["name"] == "already used by another key"
    assert [k.name for k in list_keys(session)] == ["zalo-app"]


@pytest.mark.parametrize("role", ["operator", "dispatcher", "staff", "hospital", "supervisor"])
def test_only_administrators_issue_and_revoke_keys(session, role):
    user = make_user(session, role)
    issue_key(session, "zalo-app", "open311", NOW)

    with pytest.raises(Forbidden):
        create_key(session, user, NOW, name="mine", scopes="open311")
    with pytest.raises(Forbidden):
        withdraw_key(session, user, NOW, "zalo-app")


def test_issuing_and_revoking_are_audited_without_the_key_or_its_hash(session):
    admin = make_user(session, "admin", username="root")
    key, plaintext, events = create_key(session, admin, NOW, name="zalo-app", scopes=["open311", "read"])
    _, revoked = withdraw_key(session, admin, NOW + timedelta(minutes=5), "zalo-app")
    _, nothing = withdraw_key(session, admin, NOW + timedelta(minutes=6), "zalo-app")
    session.commit()

    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.entity, e.entity_key, e.action, e.actor_label) for e in entries] == [
        ("api_key", "zalo-app", "create", "root"), ("api_key", "zalo-app", "deactivate", "root")]
    assert entries[0].after == {"name": "zalo-app", "key_prefix": plaintext[:8], "scopes": ["open311", "read"],
                                "created_by": "root", "revoked": False}
    assert entries[1].before["revoked"] is False and entries[1].after["revoked"] is True
    for entry in entries:
        dumped = str(entry.before) + str(entry.after)
        assert plaintext[8:] not in dumped and key.key_hash not in dumped
    assert len(events) == len(revoked) == 1 and nothing == []
    assert key.created_by.username == "root"


def test_the_server_command_line_may_issue_keys_as_the_system(session):
    key, _, events = create_key(session, SystemActor("flask apikeys"), NOW, name="zalo-app", scopes="open311")
    session.commit()

    assert key.created_by is None
    assert session.scalar(select(AuditEntry.actor_label)) == "flask apikeys"
    assert len(events) == 1
