"""`flask retention run` and the daily job (app/tasks/retention.py): RETENTION_MONTHS decides
what is anonymised, --dry-run only counts, 0 means never; the recordings of anonymised
tickets are deleted at Twilio; the public tracking page still shows an anonymised ticket."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse

from app import create_app
from app.jobs import PERIODIC
from app.tasks.retention import anonymise_old_tickets
from integrations.twilio_rest import RecordingDeleter
from tests.factories import SYSTEM, counting_statements, db_counts
from tickets.calls import Call, attach_recording, open_call, update_call_status
from tickets.db import utcnow
from tickets.models import Ticket
from tickets.services import cancel_ticket

ACCOUNT_SID, TOKEN = "AC" + "0" * 32, "test-token"
CALLER, HOTLINE = "+84912345678", "+842741022"
LONG_AGO = utcnow() - timedelta(days=1000)  # about 33 months


class FakeTwilio(TwilioHttpClient):
    """Twilio's HTTP client with the network replaced: records each request and answers
    with ``status`` (204: deleted)."""

    def __init__(self, status: int = 204):
        super().__init__()
        self.status = status
        self.requests: list[tuple[str, str]] = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        self.requests.append((method, uri))
        if self.status == 204:
            return TwilioResponse(204, "")
        return TwilioResponse(self.status, json.dumps({"code": 20000 + self.status, "message": "refused",
                                                       "status": self.status}))


@pytest.fixture
def make_app(database_url, session):
    """Build an app on the test database with these settings (no Redis, no Twilio account)."""
    built = []

    def make(**config):
        application = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                                  "WTF_CSRF_ENABLED": False, "REDIS_URL": None, "TWILIO_ACCOUNT_SID": None,
                                  "TWILIO_AUTH_TOKEN": None, **config})
        built.append(application)
        return application

    yield make
    for application in built:
        application.extensions["database"].engine.dispose()


def with_twilio(application, fake: FakeTwilio):
    application.extensions["recording_deleter"] = RecordingDeleter(ACCOUNT_SID, TOKEN, http_client=fake)
    return application


def run(application, *args: str):
    """`flask --app wsgi retention run …` on this app."""
    with application.app_context():
        return application.test_cli_runner().invoke(args=["retention", "run", *args])


def run_sweeps(application) -> int:
    """One tick of the in-process runner (no Redis): every periodic job is due on the first."""
    return application.extensions["jobs"].run_due(now=time.time() + 1)


def old_voicemail(session, sid: str = "CA0001", recording_sid: str = "RE0001") -> Ticket:
    """A call that left a voicemail about 33 months ago; its ticket cancelled then."""
    call, _ = open_call(session, sid=sid, line="1022", from_raw=CALLER, to=HOTLINE, now=LONG_AGO)
    attach_recording(session, call, recording_sid=recording_sid, duration=20, now=LONG_AGO,
                     url=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}")
    update_call_status(session, call, "completed", LONG_AGO, duration=30)
    cancel_ticket(session, SYSTEM, call.ticket_id, LONG_AGO, reason="gọi nhầm")
    session.commit()
    return call.ticket


def state(session, ticket: Ticket) -> tuple:
    session.expire_all()
    ticket = session.get(Ticket, ticket.id)
    call = session.scalar(select(Call).where(Call.ticket_id == ticket.id))
    return ticket.caller_phone, ticket.anonymised_at is not None, call.from_number, call.recording_sid


# ---- the command ---------------------------------------------------------------------------------

def test_a_dry_run_counts_what_would_go_and_writes_nothing(make_app, session, engine):
    application = make_app()
    ticket = old_voicemail(session)
    before = db_counts(engine)

    with counting_statements(application.extensions["database"].engine) as statements:
        result = run(application, "--dry-run")

    assert result.exit_code == 0, result.output
    assert "Dry run, nothing changed. Would anonymise 1 tickets" in result.output
    assert "1 calls, 0 SMS" in result.output
    assert [s for s in statements if s.lstrip().split()[0].upper() in ("UPDATE", "INSERT", "DELETE")] == []
    assert db_counts(engine) == before
    assert state(session, ticket) == (CALLER, False, CALLER, "RE0001")


def test_a_run_anonymises_and_says_how_much_and_a_second_run_finds_nothing(make_app, session):
    application = make_app()
    ticket = old_voicemail(session)

    result = run(application)
    assert result.exit_code == 0, result.output
    assert "Anonymised 1 tickets" in result.output and "1 calls, 0 SMS" in result.output
    assert "No Twilio account set" in result.output
    assert state(session, ticket) == (None, True, "", "RE0001")  # the sid waits for a Twilio account

    again = run(application)
    assert "Anonymised 0 tickets" in again.output


def test_the_months_option_overrides_the_setting_and_0_anonymises_nothing(make_app, session):
    application = make_app()
    ticket = old_voicemail(session)

    assert "Anonymised 0 tickets" in run(application, "--months", "40").output
    assert "Retention is off" in run(application, "--months", "0").output
    assert state(session, ticket)[:2] == (CALLER, False)
    assert run(application, "--months", "-1").exit_code == 2


def test_retention_months_0_turns_the_command_and_the_daily_job_off(make_app, session):
    application = make_app(RETENTION_MONTHS=0)
    ticket = old_voicemail(session)

    assert "Retention is off" in run(application).output
    with application.app_context():
        assert anonymise_old_tickets() == 0
    assert run_sweeps(application) > 0
    assert state(session, ticket)[:2] == (CALLER, False)


# ---- the daily job -------------------------------------------------------------------------------

def test_the_job_runs_once_a_day_in_process_and_anonymises(make_app, session):
    assert any(p.func == "app.tasks.retention.anonymise_old_tickets" and p.every == 24 * 3600 for p in PERIODIC)
    application = make_app()
    ticket = old_voicemail(session)
    recent = old_voicemail(session, sid="CA0002", recording_sid="RE0002")
    session.execute(Ticket.__table__.update().where(Ticket.id == recent.id).values(updated_at=utcnow()))
    session.commit()

    assert run_sweeps(application) > 0

    assert state(session, ticket)[:2] == (None, True)
    assert state(session, recent)[:2] == (CALLER, False)


# ---- Twilio's copies of the recordings -------------------------------------------------------------

def test_the_recordings_of_anonymised_tickets_are_deleted_at_twilio_once(make_app, session):
    fake = FakeTwilio(204)
    application = with_twilio(make_app(), fake)
    ticket = old_voicemail(session)

    result = run(application)

    assert result.exit_code == 0, result.output
    assert "Deleted 1 recordings at Twilio" in result.output
    assert fake.requests == [("DELETE", f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/"
                                        "RE0001.json")]
    assert state(session, ticket) == (None, True, "", None)
    run(application)
    assert len(fake.requests) == 1


def test_a_recording_twilio_refuses_to_delete_is_kept_for_the_next_run(make_app, session):
    fake = FakeTwilio(500)
    application = with_twilio(make_app(), fake)
    ticket = old_voicemail(session)

    result = run(application)
    assert result.exit_code == 1
    assert "1 recording(s) not deleted at Twilio" in result.output
    assert state(session, ticket) == (None, True, "", "RE0001")
    with application.app_context(), pytest.raises(Exception, match="not deleted at Twilio"):
        anonymise_old_tickets()  # the daily job fails visibly, and is retried

    fake.status = 404  # gone meanwhile (deleted by hand, or by a run that stopped before recording it)
    assert run(application).exit_code == 0
    assert state(session, ticket)[3] is None


# ---- the citizen's tracking page ---------------------------------------------------------------------

def test_the_tracking_page_of_an_anonymised_ticket_still_shows_its_progress(make_app, session):
    application = make_app()
    client = application.test_client()
    ticket = old_voicemail(session)
    before = client.get(f"/api/public/track/{ticket.code}").get_json()

    run(application)

    after = client.get(f"/api/public/track/{ticket.code}").get_json()
    assert state(session, ticket)[1] is True
    assert {**after, "updated_at": None} == {**before, "updated_at": None}
    assert [s["status"] for s in after["steps"]] == ["new", "cancelled"]
    page = client.get(f"/track/{ticket.code}")
    assert page.status_code == 200
    assert '<span class="status cancelled">' in page.get_data(as_text=True)
    assert "912345678" not in json.dumps(before) + page.get_data(as_text=True)  # never shown there
