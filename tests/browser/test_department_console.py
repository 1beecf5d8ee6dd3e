"""A department in a real browser: a ticket the operator routes to SO_TNMT appears live on
SO_TNMT's queue and never on SO_XAYDUNG's; the staff member accepts it, writes to the caller,
resolves it with a canned response; the ticket page then shows the whole history and the SMS
with their delivery status; user text is shown as text everywhere."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.browser.helpers import sign_in, wait_live
from tests.factories import SYSTEM, bearer, make_user
from tests.telephony.conftest import install_fake_sms, sms_status_params
from tickets.db import utcnow

pytestmark = pytest.mark.browser

CANNED_FILE = Path(__file__).resolve().parents[2] / "data" / "directory" / "canned_responses.csv"
XSS_DESCRIPTION = '<img src=x onerror="window.__xss=1">Khói đen từ xưởng nhựa cuối hẻm 7'
XSS_COMMENT = "<script>window.__xss=2</script>Đoàn kiểm tra sẽ đến trong tuần này"


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


class Api:
    """The JSON API as another person uses it while the browser is open."""

    def __init__(self, app, user):
        self.client = app.test_client()
        self.headers = bearer(self.client, user)

    def post(self, path: str, body: dict) -> dict:
        response = self.client.post(path, headers=self.headers, json=body)
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    def open(self, **fields) -> dict:
        return self.post("/api/tickets", {"line": "1022", "channel": "phone", "caller_phone": "0912 345 678",
                                          **fields})


@pytest.fixture
def people(app, session):
    """Two departments' staff and the operator who routes to them; canned responses loaded."""
    from tickets.canned import load_canned_responses

    load_canned_responses(session, CANNED_FILE)
    session.commit()
    make_user(session, "staff", username="tnmt", contact_point="SO_TNMT", display_name="Lê Minh Tâm")
    make_user(session, "staff", username="xaydung", contact_point="SO_XAYDUNG")
    return Api(app, make_user(session, "operator", username="lan", display_name="Nguyễn Thị Lan"))


def overdue_ticket(app) -> None:
    """A ticket routed to SO_TNMT three days ago and never accepted: its clocks are past due."""
    from app.calendars import sla_calendars
    from app.database import db
    from tickets import services, sla

    with app.app_context():
        then = utcnow() - timedelta(days=3)
        ticket, events = services.open_ticket(db.session, SYSTEM, services.NewTicket(
            line="1022", channel="sms", caller_phone="0903 111 222", category="dat_dai", ward_code="25744",
            description="Hàng xóm xây tường lấn sang đất nhà tôi khoảng nửa mét"), then)
        events += services.assign_ticket(db.session, SYSTEM, ticket.id, then, contact_point="SO_TNMT",
                                         reason="đất đai")
        sla.apply(db.session, events, then, sla_calendars(), 60)
        db.session.commit()
        sla.sweep(db.session, utcnow())
        db.session.commit()


def a_busy_queue(app, api: Api) -> None:
    """What a department's morning looks like: new, accepted, waiting, overdue."""
    staff = Api(app, _user(app, "tnmt"))
    waiting = api.open(category="moi_truong", ward_code="25741", caller_name="Trần Văn Bảy",
                       description="Cơ sở tái chế nhựa đốt rác ban đêm, khói đen bay vào khu dân cư")
    api.post(f"/api/tickets/{waiting['id']}/assign", {"contact_point": "SO_TNMT", "reason": "môi trường"})
    staff.post(f"/api/tickets/{waiting['id']}/ask-caller", {"question": "Ông/Bà cho biết số nhà của cơ sở?"})
    accepted = api.open(category="dat_dai", address="Hẻm 12 Lê Hồng Phong", ward_code="25747",
                        description="Hỏi thủ tục tách thửa đất nông nghiệp")
    api.post(f"/api/tickets/{accepted['id']}/assign", {"contact_point": "SO_TNMT"})
    staff.post(f"/api/tickets/{accepted['id']}/accept", {})
    overdue_ticket(app)


def _user(app, username: str):
    from sqlalchemy import select

    from app.database import db
    from tickets.accounts import User

    with app.app_context():
        return db.session.scalars(select(User).where(User.username == username)).one()


def test_a_routed_ticket_reaches_its_department_live_and_is_answered_there(
        app, browser, page, live_server, people, twilio, screenshot):
    fake_sms = install_fake_sms(app)
    fired: list[str] = []
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
    a_busy_queue(app, people)
    other = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US").new_page()
    try:
        sign_in(page, live_server, "tnmt")
        sign_in(other, live_server, "xaydung")
        assert page.url == f"{live_server}/department"
        for p in (page, other):
            wait_live(p)
        page.wait_for_selector("#queue-rows tr")
        before = page.locator("#queue-rows tr").count()

        # The operator completes and routes a ticket while both departments watch.
        ticket = people.open(category="moi_truong", ward_code="25741", caller_name="Nguyễn Văn An",
                             description=XSS_DESCRIPTION)
        people.post(f"/api/tickets/{ticket['id']}/assign", {"contact_point": "SO_TNMT", "reason": "ô nhiễm"})

        row = page.locator(f'#queue-rows tr[data-id="{ticket["id"]}"]')
        row.wait_for()
        assert page.locator("#queue-rows tr").count() == before + 1
        assert display(ticket["code"]) in row.inner_text()
        assert row.get_attribute("data-status") == "assigned"
        other.wait_for_timeout(1500)
        assert other.locator(f'#queue-rows tr[data-id="{ticket["id"]}"]').count() == 0
        other.reload()
        wait_live(other)
        other.wait_for_timeout(500)
        assert display(ticket["code"]) not in other.locator("#department").inner_text()

        # The staff member opens it: the description is text, the actions are the allowed ones.
        row.click()
        page.wait_for_selector("#d-code")
        assert page.locator("#d-description").inner_text() == XSS_DESCRIPTION
        page.locator("#act-accept").click()
        page.wait_for_selector(f'#queue-rows tr[data-id="{ticket["id"]}"][data-status="in_progress"]')
        page.wait_for_selector("#act-accept", state="detached")  # accepted: no longer offered

        # A comment to the caller is explicit about the SMS.
        page.locator("#tab-comment").click()
        page.locator("#aud-external").check()
        page.locator("#fld-body").fill(XSS_COMMENT)
        page.locator("#send-comment").click()
        page.wait_for_selector("#d-history .ev-comment.tag-sms")
        assert page.locator("#d-history .ev-comment .ev-body").first.inner_text() == XSS_COMMENT

        # An empty answer is refused next to the field, without asking the server.
        page.locator("#tab-resolve").click()
        page.wait_for_selector("#canned li")
        page.locator("#send-resolve").click()
        assert page.locator("#err-resolution").is_visible()

        # The answer starts from a canned response and is edited before sending.
        page.locator("#canned li button").first.click()
        inserted = page.locator("#fld-resolution").input_value()
        assert inserted and "{" not in inserted
        page.locator("#fld-resolution").press("End")
        page.locator("#fld-resolution").type(" Kết quả quan trắc đăng tại trang tra cứu.")
        answer = page.locator("#fld-resolution").input_value().strip()
        assert answer.startswith(inserted.strip()) and answer.endswith("trang tra cứu.")
        screenshot("console-department")
        page.set_viewport_size({"width": 800, "height": 1000})
        screenshot("console-department-tablet")
        page.set_viewport_size({"width": 1366, "height": 768})
        page.locator("#send-resolve").click()
        row.wait_for(state="detached")

        # The ticket page: the history in words and the SMS with their delivery status.
        app.extensions["jobs"].run_due()
        reply = next(m for m in fake_sms.messages if "Đoàn kiểm tra sẽ đến" in m["Body"])
        assert reply["To"] == "+84912345678"
        status = twilio.post("/twilio/sms/status", sms_status_params(_provider_sid(app, ticket["id"], "reply"),
                                                                      "delivered"))
        assert status.status_code in (200, 204)

        page.goto(f"{live_server}/tickets/{ticket['id']}")
        wait_live(page)
        page.wait_for_selector("#t-messages .sms")
        actions = page.locator("#t-history .ev").evaluate_all("els => els.map(e => e.dataset.action)")
        assert actions[0] == "created" and actions[-1] == "resolve"
        assert actions.index("assign") < actions.index("accept") < actions.index("comment") < actions.index("resolve")
        assert page.locator("#t-history .ev-comment .ev-body").inner_text() == XSS_COMMENT
        assert answer in page.locator("#t-history .ev-resolve").inner_text()
        assert page.locator("#t-description").inner_text() == XSS_DESCRIPTION
        delivered = page.locator('#t-messages .sms[data-kind="reply"] .delivery')
        assert delivered.get_attribute("data-status") == "delivered"
        assert page.locator('#t-messages .sms[data-kind="answer"]').count() == 1
        assert page.evaluate("window.__xss") is None and not fired

        # The page follows the ticket while it is open: a colleague's internal note appears, marked.
        Api(app, _user(app, "tnmt")).post(f"/api/tickets/{ticket['id']}/comment",
                                          {"body": "Đã lưu hồ sơ kiểm tra vào sổ theo dõi", "internal": True})
        note = page.locator("#t-history .ev-comment.tag-internal")
        note.wait_for()
        assert "Đã lưu hồ sơ kiểm tra" in note.inner_text()
        screenshot("ticket-detail")
    finally:
        other.context.close()


def _provider_sid(app, ticket_id: int, kind: str) -> str:
    from sqlalchemy import select

    from app.database import db
    from tickets.messages import OutboundMessage

    with app.app_context():
        return db.session.scalars(select(OutboundMessage.provider_sid).where(
            OutboundMessage.ticket_id == ticket_id, OutboundMessage.kind == kind)).one()


def test_a_stale_action_shows_the_server_s_message_and_reloads_the_ticket(app, page, live_server, people):
    ticket = people.open(category="moi_truong", description="Mùi hôi từ bãi rác tạm")
    people.post(f"/api/tickets/{ticket['id']}/assign", {"contact_point": "SO_TNMT"})
    sign_in(page, live_server, "tnmt")
    wait_live(page)
    page.locator(f'#queue-rows tr[data-id="{ticket["id"]}"]').click()
    page.wait_for_selector("#act-accept")
    page.locator("#tab-resolve").click()
    page.locator("#fld-resolution").fill("Đã kiểm tra và yêu cầu đơn vị thu gom khắc phục.")

    # A colleague accepts first; this page learns of it only through the 409 (its event is
    # dropped here, as if the connection had hiccuped).
    page.evaluate("Hotline.socket.off('ticket.updated')")
    Api(app, _user(app, "tnmt")).post(f"/api/tickets/{ticket['id']}/accept", {})
    page.locator("#send-resolve").click()

    page.wait_for_selector("#form-resolve .form-error:not([hidden])")
    assert "changed meanwhile" in page.locator("#form-resolve .form-error").inner_text()
    page.wait_for_selector("#act-accept", state="detached")  # reloaded: already in progress
    # What was typed survives the reload, ready to send again.
    assert page.locator("#fld-resolution").input_value() == "Đã kiểm tra và yêu cầu đơn vị thu gom khắc phục."
    page.locator("#send-resolve").click()
    page.wait_for_selector(f'#queue-rows tr[data-id="{ticket["id"]}"]', state="detached")


def test_handing_a_ticket_back_offers_routing_s_alternatives_first(app, page, live_server, people):
    ticket = people.open(category="do_thi", ward_code="25741",
                         description="Đèn đường không sáng trước trường tiểu học Phú Cường")
    people.post(f"/api/tickets/{ticket['id']}/assign", {"contact_point": "SO_TNMT", "reason": "nhầm"})
    sign_in(page, live_server, "tnmt")
    wait_live(page)
    page.locator(f'#queue-rows tr[data-id="{ticket["id"]}"]').click()
    page.locator("#tab-transfer").click()

    page.locator("#send-transfer").click()
    assert page.locator("#err-contact_point").is_visible() and page.locator("#err-reason").is_visible()

    proposal = ticket["routing"]["contact_point"]
    assert proposal and proposal != "SO_TNMT"
    first_group = page.locator("#fld-contact_point optgroup").first
    options = first_group.locator("option").evaluate_all("els => els.map(e => e.value)")
    assert options[0] == proposal and "SO_TNMT" not in options
    page.locator("#fld-contact_point").select_option(options[0])
    page.locator("#fld-reason").fill("Chiếu sáng công cộng thuộc Sở Xây dựng/UBND cấp huyện")
    page.locator("#send-transfer").click()

    page.wait_for_selector(f'#queue-rows tr[data-id="{ticket["id"]}"]', state="detached")
    assert page.locator("#detail .empty").is_visible()
