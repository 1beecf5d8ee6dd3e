"""Each clock's due time as the API shows it, through the real lifecycle endpoints with the
time set by time-machine: created -> resolution, assigned -> first response, accepted ->
met; 115 dispatched -> acknowledgement within DISPATCH_ACK_SECONDS around the clock;
asking the caller pauses (no due time), resuming or the caller's SMS starts it again with
the working time that was left."""

from __future__ import annotations

import time_machine

from tests.factories import make_user
from tests.sla.helpers import at, bearer, clocks, iso, post
from tests.telephony.conftest import ACCOUNT_SID, CALLER, TOKEN, TwilioClient, sms_params

WED_10 = at(2026, 11, 25, 10)  # a Wednesday, mid-morning


def _people(session) -> None:
    make_user(session, "operator", username="op")
    make_user(session, "staff", username="tnmt", contact_point="SO_TNMT")
    make_user(session, "dispatcher", username="disp")
    make_user(session, "hospital", username="bv", hospital="BVDK_TINH")


def test_the_1022_clocks_start_stop_and_show_on_the_ticket(client, session, policies):
    _people(session)
    with time_machine.travel(WED_10, tick=False) as traveller:
        op, staff = bearer(client, "op"), bearer(client, "tnmt")
        ticket = post(client, op, "/api/tickets", line="1022", channel="phone", description="Rác thải")
        # 40 working hours (5 days): Wed 5 h, Thu, Fri, Mon, Tue 7.5 h each, Wed 2 Dec 4 h + 1 h.
        assert ticket["resolution_due"] == iso(at(2026, 12, 2, 14, 30))
        assert (ticket["first_response_due"], ticket["sla_state"]) == (None, "ok")

        ticket = post(client, op, f"/api/tickets/{ticket['id']}/assign", contact_point="SO_TNMT")
        assert ticket["first_response_due"] == iso(at(2026, 11, 25, 16))  # 4 working hours
        assert ticket["resolution_due"] == iso(at(2026, 12, 2, 14, 30))  # unchanged

        traveller.move_to(at(2026, 11, 25, 11))
        ticket = post(client, staff, f"/api/tickets/{ticket['id']}/accept")
        assert (ticket["first_response_due"], ticket["sla_state"]) == (None, "ok")  # resolution runs
        first = [c for c in clocks(session, ticket["id"]) if c.clock == "first_response"]
        assert [(c.met, c.elapsed_seconds) for c in first] == [(True, 3600.0)]

        traveller.move_to(at(2026, 11, 25, 14))
        ticket = post(client, staff, f"/api/tickets/{ticket['id']}/resolve", resolution="Đã thu gom")
        assert (ticket["resolution_due"], ticket["sla_state"]) == (None, "met")
        resolution = [c for c in clocks(session, ticket["id"]) if c.clock == "resolution"]
        assert [(c.met, c.elapsed_seconds) for c in resolution] == [(True, 2 * 3600.0)]  # lunch skipped


def test_the_most_specific_policy_sets_the_targets(client, session, policies):
    _people(session)
    with time_machine.travel(WED_10, tick=False):
        op = bearer(client, "op")
        high = post(client, op, "/api/tickets", line="1022", channel="web", priority="high")
        high = post(client, op, f"/api/tickets/{high['id']}/assign", contact_point="SO_TNMT")
        assert high["first_response_due"] == iso(at(2026, 11, 25, 11))  # 1 working hour
        assert high["resolution_due"] == iso(at(2026, 11, 27, 11))  # 16 working hours
        papers = post(client, op, "/api/tickets", line="1022", channel="web", category="thu_tuc_hanh_chinh")
        assert papers["resolution_due"] == iso(at(2026, 11, 30, 11, 30))  # 24 working hours
        urgent = post(client, op, "/api/tickets", line="1022", channel="web", priority="emergency")
        assert urgent["resolution_due"] == iso(at(2026, 11, 25, 14))  # 4 h around the clock


def test_a_115_dispatch_must_be_acknowledged_within_the_setting_24_7(app, client, session, policies):
    _people(session)
    app.config["DISPATCH_ACK_SECONDS"] = 90  # the setting wins over the policy's 60 s
    sunday_22 = at(2026, 11, 29, 22)
    with time_machine.travel(sunday_22, tick=False) as traveller:
        disp = bearer(client, "disp")
        # With a location, a 115 ticket is dispatched to the nearest suitable hospital at once.
        ticket = post(client, disp, "/api/tickets", line="115", channel="phone", description="Ngất xỉu",
                      lat=10.98, lon=106.65)
        assert ticket["resolution_due"] == iso(at(2026, 11, 30, 0))  # 2 h, night and Sunday included
        assert ticket["hospital"] is not None
        assert ticket["first_response_due"] == iso(at(2026, 11, 29, 22, 1, 30))
        # Re-dispatched by hand: a new acknowledgement clock, the first one stopped unscored.
        traveller.move_to(at(2026, 11, 29, 22, 0, 20))
        ticket = post(client, disp, f"/api/tickets/{ticket['id']}/assign", hospital="BVDK_TINH")
        assert ticket["first_response_due"] == iso(at(2026, 11, 29, 22, 1, 50))
        traveller.move_to(at(2026, 11, 29, 22, 1, 20))
        ticket = post(client, bearer(client, "bv"), f"/api/tickets/{ticket['id']}/accept")
        assert ticket["first_response_due"] is None
        ack = [c for c in clocks(session, ticket["id"]) if c.clock == "acknowledgement"]
        assert [(c.business_hours, c.target_seconds, c.met, c.elapsed_seconds) for c in ack] == [
            (False, 90, None, 20.0), (False, 90, True, 60.0)]


def _asked(client, session) -> tuple[dict, dict, dict]:
    """A ticket assigned Wed 10:00 and, at 11:00, waiting for the caller's answer."""
    op, staff = bearer(client, "op"), bearer(client, "tnmt")
    ticket = post(client, op, "/api/tickets", line="1022", channel="phone", caller_phone="0912345678",
                  description="Ngập nước")
    post(client, op, f"/api/tickets/{ticket['id']}/assign", contact_point="SO_TNMT")
    return ticket, op, staff


def test_asking_the_caller_pauses_and_resuming_gives_back_the_time_left(client, session, policies):
    _people(session)
    with time_machine.travel(WED_10, tick=False) as traveller:
        ticket, _op, staff = _asked(client, session)
        traveller.move_to(at(2026, 11, 25, 11))
        asked = post(client, staff, f"/api/tickets/{ticket['id']}/ask-caller", question="Số nhà cụ thể?")
        assert asked["waiting_on_caller"] is True
        assert (asked["first_response_due"], asked["resolution_due"]) == (None, None)

        traveller.move_to(at(2026, 11, 27, 16))  # two days later, Friday 16:00
        resumed = post(client, staff, f"/api/tickets/{ticket['id']}/resume", reason="Đã gọi lại")
        # First response had 3 working hours left: Fri 16-17, then Mon 07:30-09:30.
        assert resumed["first_response_due"] == iso(at(2026, 11, 30, 9, 30))
        # Resolution had 39 left: Fri 1, Mon-Thu 30, Fri 7.5, Mon 7 Dec 07:30 + 0.5.
        assert resumed["resolution_due"] == iso(at(2026, 12, 7, 8))
        assert resumed["waiting_on_caller"] is False


def test_the_callers_sms_answer_resumes_the_clocks(app, client, session, policies):
    _people(session)
    app.config.update(TWILIO_AUTH_TOKEN=TOKEN, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                      PUBLIC_BASE_URL="http://127.0.0.1:5000")
    with time_machine.travel(WED_10, tick=False) as traveller:
        ticket, _op, staff = _asked(client, session)
        traveller.move_to(at(2026, 11, 25, 11))
        post(client, staff, f"/api/tickets/{ticket['id']}/ask-caller", question="Số nhà cụ thể?")
        traveller.move_to(at(2026, 11, 26, 8, 30))  # Thursday
        reply = TwilioClient(app).post("/twilio/sms", sms_params(f"{ticket['code']} số 12 hẻm 5", from_=CALLER))
        assert reply.status_code == 200
        now = client.get(f"/api/tickets/{ticket['id']}", headers=staff).get_json()
        assert now["waiting_on_caller"] is False
        assert now["first_response_due"] == iso(at(2026, 11, 26, 11, 30))  # 3 h from 08:30
        assert "caller_replied" in [e["action"] for e in now["events"]]


def test_the_acknowledgement_clock_counts_from_the_dispatch_not_from_the_commit(app, session, policies):
    """The re-dispatch job works from ``assigned_at``; the countdown consoles show must agree
    with it even when the commit comes a moment after the dispatch."""
    from datetime import timedelta

    from app.calendars import sla_calendars
    from tests.factories import SYSTEM, make_ticket
    from tickets import sla
    from tickets.services import assign_ticket

    dispatched_at = at(2026, 11, 29, 22)
    ticket = make_ticket(session, line="115", priority="emergency", now=dispatched_at)
    events = assign_ticket(session, SYSTEM, ticket.id, dispatched_at, hospital="BVDK_TINH")
    with app.app_context():
        sla.apply(session, events, dispatched_at + timedelta(seconds=2), sla_calendars(), 60)
    [ack] = [c for c in clocks(session, ticket.id) if c.clock == "acknowledgement"]
    assert ack.due_at == dispatched_at + timedelta(seconds=60)
