"""A number that made nuisance calls: the next call is still answered, and whoever takes it is
told how many nuisance calls the number made in the last 90 days, under either numbering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.telephony.conftest import HOTLINE_115, bearer, call_sid, console, on_duty, received, twiml
from tickets.codes import new_code
from tickets.models import Ticket

TODAY_NUMBER, OLD_FORM = "+84388123456", "+841688123456"  # one person: Viettel renumbered in 2018


def old_ticket(session, phone: str, *, days_ago: int, cancel_reason: str | None, line: str = "115") -> Ticket:
    """A ticket from before this call, as it stands in the database."""
    created = datetime.now(UTC) - timedelta(days=days_ago)
    ticket = Ticket(code=new_code(), line=line, channel="phone", priority="emergency", description="",
                    caller_phone=phone, created_at=created, updated_at=created,
                    status="cancelled" if cancel_reason else "new", cancel_reason=cancel_reason)
    session.add(ticket)
    session.commit()
    return ticket


def test_the_next_call_tells_dispatch_how_many_nuisance_calls_the_number_made_in_90_days(
        twilio, tw_app, session):
    on_duty(session, "dispatcher", username="disp")
    headers = bearer(tw_app, "disp")
    # A prank today, cancelled by the dispatcher in one click (no words needed) …
    first = call_sid()
    twiml(twilio.voice(first, from_=TODAY_NUMBER, to=HOTLINE_115))
    prank_id = session.query(Ticket.id).filter(Ticket.caller_phone == TODAY_NUMBER).scalar()
    cancelled = tw_app.test_client().post(f"/api/tickets/{prank_id}/cancel", headers=headers,
                                          json={"reason_code": "nuisance"})
    assert cancelled.status_code == 200, cancelled.json
    # … one a month ago stored under the old 11-digit form, and what must not count: a
    # prank 100 days ago, a wrong number, and someone else's prank.
    old_ticket(session, OLD_FORM, days_ago=30, cancel_reason="nuisance")
    old_ticket(session, TODAY_NUMBER, days_ago=100, cancel_reason="nuisance")
    wrong = old_ticket(session, TODAY_NUMBER, days_ago=5, cancel_reason="wrong_number")
    old_ticket(session, "+84912345678", days_ago=1, cancel_reason="nuisance")
    dispatcher = console(tw_app, "disp")

    again = call_sid()
    twiml(twilio.voice(again, from_=OLD_FORM, to=HOTLINE_115))

    [incoming] = received(dispatcher, "call.incoming")
    assert incoming["call_sid"] == again  # the call is announced (and answered) like any other
    assert incoming["nuisance_count_90d"] == 2
    flagged = {t["id"]: t["nuisance"] for t in incoming["history"]}
    assert flagged[prank_id] is True and flagged[wrong.id] is False
    assert sum(flagged.values()) == 3  # the history lists the old prank too; it is just not counted


def test_a_number_without_earlier_tickets_has_no_nuisance_calls(twilio, tw_app, session):
    on_duty(session, username="lan")
    operator = console(tw_app, "lan")

    twiml(twilio.voice(call_sid(), from_=TODAY_NUMBER))

    [incoming] = received(operator, "call.incoming")
    assert (incoming["history"], incoming["nuisance_count_90d"]) == ([], 0)
