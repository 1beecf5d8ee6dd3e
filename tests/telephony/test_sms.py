"""SMS to 1022: a new ticket (answered with its tracking code), a follow-up on an open ticket
(by its code), or an answer to the satisfaction survey; and delivery reports for what we send."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import make_user
from tests.telephony.conftest import (
    CALLER,
    HOTLINE_115,
    bearer,
    message_sid,
    sms_params,
    sms_status_params,
    twiml,
    verbs,
)
from tickets.accounts import User
from tickets.codes import display_code
from tickets.messages import InboundMessage
from tickets.sms_texts import segments

OTHER_CALLER = "+84987654321"


def text(twilio, body: str, **kwargs):
    root = twiml(twilio.post("/twilio/sms", sms_params(body, **kwargs)))
    assert verbs(root) == []  # replies go through the outbox, never inline
    return root


# ---- new tickets -------------------------------------------------------------------------

def test_an_sms_opens_a_ticket_and_the_caller_gets_its_tracking_code(twilio, rows):
    body = "Nước ngập sâu trên đường Yersin, phường Phú Cường, xe máy chết máy hàng loạt."
    text(twilio, body)

    ticket = rows.only_ticket()
    assert (ticket.line, ticket.channel, ticket.priority) == ("1022", "sms", "normal")
    assert ticket.status in ("new", "assigned")  # routing may send it on at once
    assert (ticket.description, ticket.caller_phone) == (body, CALLER)
    [tracking] = rows.outbox()
    assert (tracking.kind, tracking.to_number, tracking.status) == ("tracking", CALLER, "queued")
    assert display_code(ticket.code) in tracking.body
    assert f"/track/{ticket.code}" in tracking.body
    assert rows.count(InboundMessage, InboundMessage.kind == "new_ticket") == 1


def test_the_same_message_delivered_twice_opens_one_ticket(twilio, rows):
    params = sms_params("Cây xanh đổ chắn ngang đường")
    for _ in range(2):
        twiml(twilio.post("/twilio/sms", params))
    assert rows.tickets() == 1
    assert len(rows.outbox(kind="tracking")) == 1
    assert rows.count(InboundMessage) == 1


def test_the_deprecated_sms_sid_alone_is_enough(twilio, rows):
    params = sms_params("Đèn đường hỏng")
    del params["MessageSid"]
    twiml(twilio.post("/twilio/sms", params))
    twiml(twilio.post("/twilio/sms", params))
    assert rows.tickets() == 1


def test_a_long_message_with_emoji_is_kept_whole(twilio, rows):
    body = ("Khói bụi từ nhà máy gạch 😷🏭 " * 60)[:1598] + "!!"
    assert len(body) == 1600
    text(twilio, body, segments=24)
    ticket = rows.only_ticket()
    assert ticket.description == " ".join(body.split())
    assert "😷" in ticket.description
    assert len(rows.outbox(kind="tracking")) == 1


def test_an_sms_to_a_number_we_do_not_serve_is_ignored(twilio, rows):
    before = rows.snapshot()
    for to in ("+842743999999", HOTLINE_115, ""):
        root = twiml(twilio.post("/twilio/sms", sms_params("Xin chào", to=to)))
        assert verbs(root) == []
    assert rows.snapshot() == before


# ---- follow-ups --------------------------------------------------------------------------

@pytest.fixture
def open_ticket_code(twilio, rows) -> str:
    text(twilio, "Nước ngập sâu trên đường Yersin")
    return rows.only_ticket().code


def test_a_follow_up_with_the_tracking_code_is_added_to_that_ticket(twilio, rows, open_ticket_code):
    body = f"Bổ sung: mã {display_code(open_ticket_code)}, nước vẫn ngập"
    text(twilio, body)

    ticket = rows.only_ticket()  # no second ticket
    [comment] = rows.events(ticket.id, "comment")
    assert comment.data == {"body": body, "internal": False, "from_caller": True}
    assert comment.actor_label == "Người phản ánh (SMS)"
    acks = [m for m in rows.outbox(kind="reply") if m.body.startswith("Đã nhận thông tin bổ sung")]
    assert len(acks) == 1 and display_code(open_ticket_code) in acks[0].body
    assert rows.count(InboundMessage, InboundMessage.kind == "follow_up") == 1


def test_a_follow_up_is_acknowledged_once_not_echoed_back(twilio, rows, open_ticket_code):
    text(twilio, f"Bổ sung: mã {display_code(open_ticket_code)}, nước vẫn ngập")
    assert [m.kind for m in rows.outbox()] == ["tracking", "reply"]


@pytest.mark.parametrize("written", ["{lower}", "{plain}", "Ma {spaced} nuoc van ngap"])
def test_the_code_may_be_written_loosely(twilio, rows, open_ticket_code, written):
    code = open_ticket_code
    body = written.format(lower=code.lower(), plain=code, spaced=display_code(code).lower())
    text(twilio, body)
    assert rows.tickets() == 1
    assert len(rows.events(rows.only_ticket().id, "comment")) == 1


def test_someone_elses_code_does_not_attach_to_their_ticket(twilio, rows, open_ticket_code):
    text(twilio, f"Bổ sung: mã {display_code(open_ticket_code)}", from_=OTHER_CALLER)
    assert rows.tickets() == 2  # a new ticket of the sender's own
    first = [t for t in (rows.ticket(1), rows.ticket(2)) if t.code == open_ticket_code][0]
    assert rows.events(first.id, "comment") == []


def test_a_follow_up_from_the_old_11_digit_form_of_the_number_still_attaches(twilio, rows):
    text(twilio, "Rác chưa được thu gom 3 ngày", from_="+84388123456")
    code = rows.only_ticket().code
    text(twilio, f"Bổ sung: {display_code(code)} vẫn chưa thu gom", from_="+841688123456")
    assert rows.tickets() == 1
    assert len(rows.events(rows.only_ticket().id, "comment")) == 1


# ---- the satisfaction survey -------------------------------------------------------------

def resolved_ticket(twilio, session, phone: str) -> int:
    """A ticket opened by an operator for ``phone``, routed to SO_TNMT and answered there."""
    app = twilio.app
    http = app.test_client()
    if session.scalar(select(User).where(User.username == "lan")) is None:
        make_user(session, "operator", username="lan")
        make_user(session, "staff", username="tnmt", contact_point="SO_TNMT")
    operator, staff = bearer(app, "lan"), bearer(app, "tnmt")
    created = http.post("/api/tickets", headers=operator, json={
        "line": "1022", "channel": "phone", "caller_phone": phone, "description": "Khói bụi nhà máy gạch"})
    assert created.status_code == 201
    ticket_id = created.json["id"]
    assert http.post(f"/api/tickets/{ticket_id}/assign", headers=operator,
                     json={"contact_point": "SO_TNMT"}).status_code == 200
    resolved = http.post(f"/api/tickets/{ticket_id}/resolve", headers=staff,
                         json={"resolution": "Đã kiểm tra và yêu cầu nhà máy lắp bộ lọc bụi."})
    assert resolved.status_code == 200, resolved.json
    return ticket_id


def test_resolving_a_ticket_sends_the_answer_and_the_survey(twilio, session, rows):
    ticket_id = resolved_ticket(twilio, session, "0912 345 678")
    sent = rows.outbox(ticket_id=ticket_id)
    assert [m.kind for m in sent] == ["tracking", "answer", "survey"]
    assert all(m.to_number == CALLER for m in sent)
    assert "lọc bụi" in sent[1].body
    assert "1" in sent[2].body and "2" in sent[2].body
    assert rows.ticket(ticket_id).survey_sent_at is not None


def test_answering_1_records_satisfaction(twilio, session, rows):
    ticket_id = resolved_ticket(twilio, session, CALLER)
    text(twilio, "1")
    ticket = rows.ticket(ticket_id)
    assert (ticket.satisfaction, ticket.status) == (1, "resolved")
    [answer] = rows.events(ticket_id, "survey_answer")
    assert answer.data == {"satisfied": True}
    assert rows.tickets() == 1  # "1" is an answer, not a new request
    assert [m.kind for m in rows.outbox(ticket_id=ticket_id)][-1] == "reply"


def test_answering_2_records_dissatisfaction_and_reopens_the_ticket(twilio, session, rows):
    resolved_ticket(twilio, session, CALLER)
    text(twilio, "1")
    ticket_id = resolved_ticket(twilio, session, OTHER_CALLER)
    text(twilio, "2", from_=OTHER_CALLER)

    ticket = rows.ticket(ticket_id)
    assert (ticket.satisfaction, ticket.status) == (2, "assigned")
    assert [e.action for e in rows.events(ticket_id)][-2:] == ["survey_answer", "reopen"]
    [answer] = rows.events(ticket_id, "survey_answer")
    assert answer.data == {"satisfied": False}
    assert rows.tickets() == 2


def test_a_ticket_resolved_again_after_a_bad_rating_can_be_rated_again(twilio, session, rows):
    ticket_id = resolved_ticket(twilio, session, CALLER)
    text(twilio, "2")
    http, staff = twilio.app.test_client(), bearer(twilio.app, "tnmt")
    again = http.post(f"/api/tickets/{ticket_id}/resolve", headers=staff,
                      json={"resolution": "Nhà máy đã lắp bộ lọc, đoàn kiểm tra đã xác nhận."})
    assert again.status_code == 200, again.json
    assert [m.kind for m in rows.outbox(ticket_id=ticket_id)][-2:] == ["answer", "survey"]

    text(twilio, "1")
    assert rows.tickets() == 1
    assert rows.ticket(ticket_id).satisfaction == 1


@pytest.mark.parametrize(("reply", "satisfaction"), [("Hài lòng", 1), ("chua hai long", 2), (" 2. ", 2)])
def test_survey_answers_in_words(twilio, session, rows, reply, satisfaction):
    ticket_id = resolved_ticket(twilio, session, CALLER)
    text(twilio, reply)
    assert rows.ticket(ticket_id).satisfaction == satisfaction


def test_a_repeated_survey_answer_counts_once(twilio, session, rows):
    ticket_id = resolved_ticket(twilio, session, CALLER)
    params = sms_params("2")
    twiml(twilio.post("/twilio/sms", params))
    twiml(twilio.post("/twilio/sms", params))
    assert len(rows.events(ticket_id, "reopen")) == 1
    assert len(rows.events(ticket_id, "survey_answer")) == 1


# ---- delivery reports --------------------------------------------------------------------

@pytest.fixture
def sent_sid(twilio, tw_app, fake_sms, rows) -> str:
    """An SMS the hotline sent (the tracking code of a new ticket), as Twilio accepted it."""
    text(twilio, "Đèn đường hỏng trước số 12")
    tw_app.extensions["jobs"].run_due()
    [message] = rows.outbox()
    assert message.status == "sent"
    return message.provider_sid


def delivery(twilio, sid: str, status: str, **extra: str) -> None:
    response = twilio.post("/twilio/sms/status", {**sms_status_params(sid, status), **extra})
    assert response.status_code == 204


def test_delivery_status_moves_forward(twilio, rows, sent_sid):
    delivery(twilio, sent_sid, "sent")
    assert rows.outbox()[0].status == "sent"
    delivery(twilio, sent_sid, "delivered")
    assert rows.outbox()[0].status == "delivered"


def test_a_late_sent_after_delivered_does_not_go_backwards(twilio, rows, sent_sid):
    delivery(twilio, sent_sid, "delivered")
    delivery(twilio, sent_sid, "sent")
    delivery(twilio, sent_sid, "queued")
    assert rows.outbox()[0].status == "delivered"


def test_an_undelivered_message_keeps_the_carrier_error(twilio, rows, sent_sid):
    delivery(twilio, sent_sid, "undelivered", ErrorCode="30003")
    message = rows.outbox()[0]
    assert (message.status, message.last_error) == ("undelivered", "Twilio error 30003")


def test_a_status_for_an_unknown_message_answers_204_and_writes_nothing(twilio, rows):
    before = rows.snapshot()
    delivery(twilio, message_sid(), "delivered")
    assert rows.snapshot() == before


# ---- segments ----------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "expected"), [
    ("Xin chào", ("GSM-7", 1)),  # "à" is in the GSM 03.38 basic alphabet
    ("Xin chào bạn", ("UCS-2", 1)),
    ("ă" * 70, ("UCS-2", 1)),
    ("ă" * 71, ("UCS-2", 2)),
    ("ă" * 134, ("UCS-2", 2)),
    ("ă" * 135, ("UCS-2", 3)),
    ("😷" * 35, ("UCS-2", 1)),  # an emoji is two UTF-16 units
    ("😷" * 36, ("UCS-2", 2)),
    ("a" * 69 + "😷", ("UCS-2", 2)),
    ("a" * 160, ("GSM-7", 1)),
    ("a" * 161, ("GSM-7", 2)),
    ("a" * 306, ("GSM-7", 2)),
    ("a" * 307, ("GSM-7", 3)),
    ("€" * 80, ("GSM-7", 1)),  # an extended character takes two septets
    ("€" * 81, ("GSM-7", 2)),
    ("", ("GSM-7", 1)),
])
def test_segments_counts_what_a_carrier_bills(body, expected):
    assert segments(body) == expected


def test_seventy_vietnamese_characters_fit_in_one_segment():
    sentence = "Đường Yersin ngập sâu, đề nghị cơ quan chức năng xử lý sớm giúp dân ạ."
    assert len(sentence) == 70 and segments(sentence) == ("UCS-2", 1)
    assert segments(sentence + "!") == ("UCS-2", 2)


# ---- followers: callers linked to a ticket that already handles their request --------------

def open_by_operator(http, operator, phone: str, description: str) -> int:
    created = http.post("/api/tickets", headers=operator, json={
        "line": "1022", "channel": "phone", "caller_phone": phone, "description": description})
    assert created.status_code == 201, created.json
    return created.json["id"]


def link(http, operator, ticket_id: int, original_id: int) -> None:
    version = http.get(f"/api/tickets/{ticket_id}", headers=operator).json["version"]
    linked = http.post(f"/api/tickets/{ticket_id}/link", headers=operator,
                       json={"duplicate_of": original_id, "version": version})
    assert linked.status_code == 200, linked.json


def test_a_follower_is_told_which_ticket_handles_it_and_gets_the_answer_but_not_the_survey(twilio, session, rows):
    follower, landline, same_caller = "+84977111222", "+842743822000", CALLER
    http = twilio.app.test_client()
    make_user(session, "operator", username="lan")
    make_user(session, "staff", username="tnmt", contact_point="SO_TNMT")
    operator, staff = bearer(twilio.app, "lan"), bearer(twilio.app, "tnmt")
    original = open_by_operator(http, operator, CALLER, "Khói bụi nhà máy gạch ở Tân Uyên")
    for phone in (follower, landline, same_caller, follower):
        link(http, operator, open_by_operator(http, operator, phone, "Nhà máy gạch xả khói đen"), original)

    told = rows.outbox(ticket_id=original, kind="linked")
    assert [m.to_number for m in told] == [follower, follower]  # a landline cannot read it; the caller knows
    code = display_code(rows.ticket(original).code)
    assert code in told[0].body and f"/track/{rows.ticket(original).code}" in told[0].body

    assert http.post(f"/api/tickets/{original}/assign", headers=operator,
                     json={"contact_point": "SO_TNMT"}).status_code == 200
    assert http.post(f"/api/tickets/{original}/resolve", headers=staff,
                     json={"resolution": "Đã yêu cầu nhà máy lắp bộ lọc bụi."}).status_code == 200

    sent = rows.outbox(ticket_id=original)
    assert [(m.kind, m.to_number) for m in sent if m.kind in ("answer", "survey")] == [
        ("answer", CALLER), ("survey", CALLER), ("answer", follower)]  # once each, the survey to the caller only
    assert "lọc bụi" in [m for m in sent if m.to_number == follower and m.kind == "answer"][0].body
