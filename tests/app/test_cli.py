"""Operator commands (CONTRACT.md, Commands): `users create`, `seed-demo` and `init`, each
safe to run again.

The commands are driven through Flask's CLI runner inside an application context (what
`flask --app wsgi` provides); one test runs the real `flask` executable end to end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from app.demo import DEMO_ACCOUNTS, SAMPLE_TICKETS

NEW_PASSWORD = "another-horse-2"


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def can_get_token(client, username: str, password: str) -> bool:
    response = client.post("/api/auth/token", json={"username": username, "password": password})
    return response.status_code == 200


@pytest.fixture
def cli(app, runner):
    """Run a command as `flask --app wsgi …` would: with the app's context pushed."""

    def invoke(*args: str):
        with app.app_context():
            return runner.invoke(args=list(args))

    return invoke


def create_user(cli, *args: str):
    return cli("users", "create", *args)


def directory_counts(engine) -> dict[str, int]:
    return {table: scalar(engine, f"SELECT count(*) FROM {table}")
            for table in ("contact_points", "hospitals", "categories", "wards", "districts")}


# ---- users create ------------------------------------------------------------------------

def test_users_create_makes_a_staff_account_of_a_contact_point(cli, client, engine):
    result = create_user(cli, "tam", "--role", "staff", "--contact-point", "SO_TNMT",
                         "--password", "correct-horse-1")

    assert result.exit_code == 0, result.output
    assert "tam" in result.output
    row = None
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT u.role, c.code FROM users u JOIN contact_points c ON c.id = u.contact_point_id"
            " WHERE u.username = 'tam'")).one()
    assert tuple(row) == ("staff", "SO_TNMT")
    assert can_get_token(client, "tam", "correct-horse-1")


def test_running_users_create_again_updates_the_account(cli, client, engine):
    create_user(cli, "tam", "--role", "staff", "--contact-point", "SO_TNMT",
                "--password", "correct-horse-1")

    result = create_user(cli, "tam", "--role", "staff", "--contact-point", "SO_XAYDUNG",
                         "--password", NEW_PASSWORD, "--display-name", "Lê Minh Tâm")

    assert result.exit_code == 0, result.output
    assert scalar(engine, "SELECT count(*) FROM users WHERE username = 'tam'") == 1
    assert scalar(engine, "SELECT c.code FROM users u JOIN contact_points c"
                          " ON c.id = u.contact_point_id WHERE u.username = 'tam'") == "SO_XAYDUNG"
    assert scalar(engine, "SELECT display_name FROM users WHERE username = 'tam'") == "Lê Minh Tâm"
    assert can_get_token(client, "tam", NEW_PASSWORD)
    assert not can_get_token(client, "tam", "correct-horse-1")


def test_a_hospital_account_belongs_to_a_hospital(cli, engine):
    result = create_user(cli, "capcuu", "--role", "hospital", "--hospital", "BVDK_TINH",
                         "--password", "correct-horse-1")

    assert result.exit_code == 0, result.output
    assert scalar(engine, "SELECT h.code FROM users u JOIN hospitals h ON h.id = u.hospital_id"
                          " WHERE u.username = 'capcuu'") == "BVDK_TINH"


def test_staff_without_a_contact_point_are_refused_with_a_clear_message(cli, engine):
    result = create_user(cli, "tam", "--role", "staff", "--password", "correct-horse-1")

    assert result.exit_code != 0
    assert "contact point" in result.output.lower()
    assert "Traceback" not in result.output
    assert scalar(engine, "SELECT count(*) FROM users") == 0


def test_staff_of_an_unknown_contact_point_are_refused(cli, engine):
    result = create_user(cli, "tam", "--role", "staff", "--contact-point", "SO_KHONG_CO",
                         "--password", "correct-horse-1")

    assert result.exit_code != 0
    assert "contact_point" in result.output
    assert scalar(engine, "SELECT count(*) FROM users") == 0


def test_a_hospital_user_without_a_hospital_is_refused(cli, engine):
    result = create_user(cli, "capcuu", "--role", "hospital", "--password", "correct-horse-1")

    assert result.exit_code != 0
    assert "hospital" in result.output.lower()
    assert scalar(engine, "SELECT count(*) FROM users") == 0


def test_an_unknown_role_is_rejected(cli, engine):
    result = create_user(cli, "boss", "--role", "king", "--password", "correct-horse-1")

    assert result.exit_code != 0
    assert "king" in result.output and "operator" in result.output
    assert scalar(engine, "SELECT count(*) FROM users") == 0


def test_a_short_password_is_refused(cli, engine):
    result = create_user(cli, "lan", "--role", "operator", "--password", "short")

    assert result.exit_code != 0
    assert "password" in result.output.lower()
    assert scalar(engine, "SELECT count(*) FROM users") == 0


# ---- seed-demo ---------------------------------------------------------------------------

def test_seed_demo_twice_keeps_the_same_accounts_and_adds_the_sample_tickets_once(
        cli, client, engine):
    first = cli("seed-demo")
    assert first.exit_code == 0, first.output
    users, tickets = (scalar(engine, "SELECT count(*) FROM users"),
                      scalar(engine, "SELECT count(*) FROM tickets"))
    events = scalar(engine, "SELECT count(*) FROM ticket_events")

    second = cli("seed-demo")

    assert second.exit_code == 0, second.output
    assert users == len(DEMO_ACCOUNTS)
    assert tickets == len(SAMPLE_TICKETS)
    assert scalar(engine, "SELECT count(*) FROM users") == users
    assert scalar(engine, "SELECT count(*) FROM tickets") == tickets
    assert scalar(engine, "SELECT count(*) FROM ticket_events") == events
    for username, *_ in DEMO_ACCOUNTS:
        assert username in second.output
    assert can_get_token(client, "operator", "hotline-demo")


# ---- init --------------------------------------------------------------------------------

def test_init_twice_leaves_the_schema_and_the_directory_as_they_were(cli, engine):
    before = directory_counts(engine)
    assert before["contact_points"] == 47

    for _ in range(2):
        result = cli("init")
        assert result.exit_code == 0, result.output

    assert directory_counts(engine) == before
    assert scalar(engine, "SELECT count(*) FROM contact_points") == 47
    assert scalar(engine, "SELECT count(*) FROM alembic_version") == 1


def test_init_keeps_what_an_administrator_changed_unless_told_to_overwrite_it(cli, client, session, engine):
    from tests.factories import bearer, make_user

    admin = make_user(session, "admin", username="quan")
    session.commit()
    original = scalar(engine, "SELECT name_vi FROM contact_points WHERE code = 'SO_TNMT'")
    response = client.patch("/api/admin/contact-points/SO_TNMT", headers=bearer(client, admin),
                            json={"name_vi": "Sở Tài nguyên và Môi trường (đổi tên)"})
    assert response.status_code == 200, response.json

    kept = cli("init")
    assert kept.exit_code == 0, kept.output
    assert "Kept as edited in /admin" in kept.output
    assert scalar(engine, "SELECT name_vi FROM contact_points WHERE code = 'SO_TNMT'").endswith("(đổi tên)")

    overwritten = cli("init", "--overwrite-admin-edits")
    assert overwritten.exit_code == 0, overwritten.output
    assert scalar(engine, "SELECT name_vi FROM contact_points WHERE code = 'SO_TNMT'") == original


def test_init_keeps_desk_numbers_an_administrator_entered_over_those_in_the_file(cli, client, session, engine,
                                                                               tmp_path):
    import shutil

    from tests.factories import bearer, make_user

    directory = tmp_path / "directory"
    shutil.copytree(Path(__file__).resolve().parents[2] / "data" / "directory", directory)
    (directory / "hospital_desks.csv").write_text(
        "hospital_code,desk_phone,sms_phone,note\nBVDK_TINH,02743822000,0911000111,from the file\n", encoding="utf-8")
    admin = make_user(session, "admin", username="quan")
    session.commit()
    response = client.patch("/api/admin/hospitals/BVDK_TINH", headers=bearer(client, admin),
                            json={"sms_phone": "0988 777 666"})
    assert response.status_code == 200, response.json

    kept = cli("init", "--directory", str(directory))
    assert kept.exit_code == 0, kept.output
    assert "hospital desk numbers" in kept.output
    assert scalar(engine, "SELECT sms_phone FROM hospitals WHERE code = 'BVDK_TINH'") == "+84988777666"

    overwritten = cli("init", "--directory", str(directory), "--overwrite-admin-edits")
    assert overwritten.exit_code == 0, overwritten.output
    assert scalar(engine, "SELECT sms_phone FROM hospitals WHERE code = 'BVDK_TINH'") == "+84911000111"
    with engine.begin() as conn:  # the directory as every other test expects it
        conn.execute(text("UPDATE hospitals SET desk_phone = NULL, sms_phone = NULL"))


# ---- how the commands are run ------------------------------------------------------------

def test_the_commands_run_from_flasks_cli_runner_without_a_pushed_context(runner, engine):
    result = runner.invoke(args=["users", "create", "lan", "--role", "operator",
                                 "--password", "correct-horse-1"])

    assert result.exit_code == 0, repr(result.exception)
    assert scalar(engine, "SELECT count(*) FROM users WHERE username = 'lan'") == 1


def test_the_real_flask_command_creates_and_updates_an_account(app, database_url, client, engine):
    root = Path(__file__).resolve().parents[2]
    flask = Path(sys.executable).with_name("flask")
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret"}
    env.pop("REDIS_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(flask), "--app", "wsgi", *args], cwd=root, env=env,  # noqa: S603
                              capture_output=True, text=True, timeout=120, check=False)

    created = run("users", "create", "tam", "--role", "staff", "--contact-point", "SO_TNMT",
                  "--password", "correct-horse-1")
    assert created.returncode == 0, created.stderr
    updated = run("users", "create", "tam", "--role", "staff", "--contact-point", "SO_TNMT",
                  "--password", NEW_PASSWORD)
    assert updated.returncode == 0, updated.stderr
    refused = run("users", "create", "ha", "--role", "staff", "--password", "correct-horse-1")

    assert refused.returncode != 0
    assert "contact point" in (refused.stdout + refused.stderr).lower()
    assert scalar(engine, "SELECT count(*) FROM users") == 1
    assert can_get_token(client, "tam", NEW_PASSWORD)
