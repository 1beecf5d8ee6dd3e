"""The supervisor wallboard in a real browser: tiles and charts, numbers that move without a
reload when tickets and calls change, CSV exports, and how it looks on a laptop and a TV."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import select, update

from tests.browser.helpers import sign_in, wait_live
from tests.factories import PASSWORD, make_user
from tests.telephony.conftest import HOTLINE_1022, call_sid
from tickets.calls import Call
from tickets.codes import new_code
from tickets.directory import ContactPoint, Hospital
from tickets.models import Ticket
from tickets.sla import SlaClock

pytestmark = pytest.mark.browser
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def value(page, key: str) -> str:
    return page.locator(f'[data-key="{key}"]').get_attribute("data-value")


def token(app, username: str) -> dict[str, str]:
    response = app.test_client().post("/api/auth/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def api(app, headers, path: str, **body) -> dict:
    response = app.test_client().post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def open_board(page, base: str, username: str = "sup") -> None:
    sign_in(page, base, username)
    page.goto(f"{base}/lang/en")
    page.goto(f"{base}/supervisor")
    wait_live(page)
    expect(page.locator("#wallboard")).to_have_attribute("aria-busy", "false")


def test_the_supervisor_sees_the_kpi_tiles_and_the_charts(live_server, session, page):
    make_user(session, "supervisor", username="sup")
    on = make_user(session, "operator", username="op")
    on.on_duty = True
    session.commit()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    open_board(page, live_server)

    tiles = page.locator(".wb-tiles .tile")
    expect(tiles).to_have_count(8)
    for name in ("Calls now", "Waiting", "Answered ≤ 15 s", "On duty", "Open tickets", "Breached",
                 "Satisfied (30 days)", "115 time to ack"):
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    assert value(page, "on_duty_operator") == "1"
    assert value(page, "open_total") == "0"
    for chart in ("chart-hourly", "chart-open", "chart-on-time"):
        assert page.evaluate(f"!!Chart.getChart(document.getElementById('{chart}'))"), chart
    expect(page.get_by_role("link", name="SLA reports →")).to_have_attribute("href", "/supervisor/sla")
    # Thresholds are written, not only coloured.
    expect(page.locator("#tile-breached [data-verdict]")).to_have_text("✓ On target")
    assert errors == []


def test_numbers_move_without_a_reload_when_tickets_and_calls_change(live_server, session, app, twilio, page):
    make_user(session, "supervisor", username="sup")
    make_user(session, "operator", username="op").on_duty = True
    make_user(session, "staff", username="tnmt", contact_point="SO_TNMT")
    session.commit()
    open_board(page, live_server)
    page.evaluate("window.__sameDocument = true")
    operator, staff = token(app, "op"), token(app, "tnmt")

    ticket = api(app, operator, "/api/tickets", line="1022", channel="phone", caller_phone="0912 345 678",
                 description="Nước ngập sâu đường Yersin")
    expect(page.locator('[data-key="open_total"]')).to_have_attribute("data-value", "1")
    api(app, operator, f"/api/tickets/{ticket['id']}/assign", contact_point="SO_TNMT", reason="đúng lĩnh vực")
    cp_row = page.locator("#contact-points tbody tr[data-row=SO_TNMT]")
    expect(cp_row).to_be_visible()
    expect(cp_row.locator("td").nth(1)).to_have_text("1")

    api(app, staff, f"/api/tickets/{ticket['id']}/accept")
    api(app, staff, f"/api/tickets/{ticket['id']}/resolve", resolution="Đã khơi thông cống")
    expect(page.locator('[data-key="open_total"]')).to_have_attribute("data-value", "0")
    expect(cp_row.locator("td").nth(4)).to_have_text("✓ 100.0 %")  # resolved on time, 7 days

    assert twilio.voice(call_sid(), to=HOTLINE_1022).status_code == 200
    expect(page.locator('[data-key="calls_now"]')).to_have_attribute("data-value", "1")
    expect(page.locator('[data-key="waiting"]')).to_have_attribute("data-value", "1")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened


def test_csv_export_downloads_the_breached_list_formula_safe(live_server, session, app, page):
    make_user(session, "supervisor", username="sup")
    make_user(session, "operator", username="op")
    operator = token(app, "op")
    ticket = api(app, operator, "/api/tickets", line="1022", channel="phone", caller_phone="0912 345 678",
                 description='=HYPERLINK("http://example.invalid","Bấm vào đây")')
    api(app, operator, f"/api/tickets/{ticket['id']}/assign", contact_point="SO_XAYDUNG", reason="xây dựng")
    session.execute(update(SlaClock).where(SlaClock.ticket_id == ticket["id"], SlaClock.clock == "first_response")
                    .values(due_at=datetime.now(UTC) - timedelta(hours=2)))
    session.commit()
    open_board(page, live_server)
    rows = page.locator("#breached tbody tr[data-row]")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("link")).to_have_attribute("href", f"/tickets/{ticket['id']}")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download “Breached” as CSV").click()
    download = info.value
    name = download.suggested_filename
    assert name.startswith("wallboard-breached_") and name.endswith(".csv")
    raw = download.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][:3] == ["Ticket", "id", "Line"]
    [row] = table[1:]
    assert row[1] == str(ticket["id"]) and row[5] == "first_response"
    assert row[7].startswith("'=HYPERLINK(")  # a spreadsheet shows it, never runs it


# ---- screenshots on a realistic day ------------------------------------------------------------

class Morning:
    """A plausible morning: open tickets across contact points (some late, some due soon), calls
    through the day and the same day last week, 115 dispatches and survey answers."""

    TEXTS = ("Đèn đường không sáng", "Rác thải tồn đọng", "Ngập nước sau mưa", "Tiếng ồn công trình ban đêm",
             "Hồ sơ đất đai chậm trả kết quả", "Ổ gà trên đường", "Cây xanh nguy cơ gãy đổ")

    def __init__(self, session, now: datetime):
        self.session, self.now, self.rnd = session, now, random.Random(1022)
        self.holder = self.ticket(now - timedelta(days=60), "closed")

    def ticket(self, created, status, cp=None, hospital=None, line="1022", satisfaction=None, accepted=None):
        t = Ticket(code=new_code(), line=line, channel="phone", status=status, description=self.rnd.choice(self.TEXTS),
                   priority="emergency" if line == "115" else "normal", contact_point=cp, hospital=hospital,
                   created_at=created, updated_at=created, satisfaction=satisfaction, accepted_at=accepted)
        self.session.add(t)
        self.session.flush()
        return t

    def clock(self, t, kind, due, **kw):
        self.session.add(SlaClock(ticket_id=t.id, clock=kind, business_hours=t.line == "1022", target_seconds=14400,
                                  started_at=t.created_at, due_at=due, **kw))

    def open_ticket(self, cp):
        now, rnd = self.now, self.rnd
        t = self.ticket(now - timedelta(hours=rnd.randint(1, 200)), rnd.choice(["assigned", "in_progress"]), cp)
        roll = rnd.random()
        if roll < 0.15:
            self.clock(t, "resolution", now - timedelta(minutes=rnd.randint(5, 3000)),
                       warn_at=now - timedelta(days=1), breached_at=now - timedelta(minutes=2))
        elif roll < 0.3:
            self.clock(t, "first_response", now + timedelta(minutes=rnd.randint(5, 120)),
                       warn_at=now - timedelta(minutes=5), warned_at=now - timedelta(minutes=5))
        else:
            self.clock(t, "resolution", now + timedelta(days=3), warn_at=now + timedelta(days=2))

    def done_ticket(self, cp, rank: int):
        rnd = self.rnd
        t = self.ticket(self.now - timedelta(days=rnd.randint(0, 28), hours=2), "resolved", cp,
                        satisfaction=rnd.choice([1, 1, 1, 2, None]))
        self.clock(t, "resolution", t.created_at + timedelta(days=2), stopped_at=t.created_at + timedelta(days=1),
                   met=rnd.random() < 0.95 - rank * 0.05, elapsed_seconds=rnd.randint(3600, 160000))

    def dispatches(self, hospitals):
        now = self.now
        for k in range(9):
            created = now - timedelta(minutes=20 + 37 * k)
            acked = created + timedelta(seconds=self.rnd.randint(25, 140))
            t = self.ticket(created, "in_progress", hospital=hospitals[k % 5], line="115", accepted=acked)
            waited = (acked - created).total_seconds()
            self.clock(t, "acknowledgement", created + timedelta(seconds=60), stopped_at=acked, met=waited <= 60,
                       elapsed_seconds=waited)
        t = self.ticket(now - timedelta(seconds=40), "assigned", hospital=hospitals[0], line="115")
        self.clock(t, "acknowledgement", now + timedelta(seconds=20), warn_at=now - timedelta(seconds=10))

    def call(self, started, line, queue=None, ended=True):
        answered = started + timedelta(seconds=queue) if queue is not None and queue < 40 else None
        self.session.add(Call(sid=f"CA{new_code()}", ticket_id=self.holder.id, line=line, from_number="+84912345678",
                              to_number="+842741022", status="completed" if ended else "ringing", started_at=started,
                              answered_at=answered, ended_at=started + timedelta(minutes=3) if ended else None,
                              queue_time=queue))

    def calls_of_day(self, midnight, until):
        moment = midnight + timedelta(hours=6, minutes=30)
        while moment < until - timedelta(minutes=3):
            self.call(moment, self.rnd.choice(["1022"] * 4 + ["115"]), self.rnd.choice([3, 5, 8, 11, 14, 16, 22, 40]))
            local_hour = (moment + timedelta(hours=7)).hour
            busy = 8 <= local_hour < 11 or 14 <= local_hour < 16
            moment += timedelta(minutes=self.rnd.randint(3, 9) if busy else self.rnd.randint(10, 30))

    def build(self):
        cps = list(self.session.scalars(select(ContactPoint).order_by(ContactPoint.id)))[:14]
        for rank, cp in enumerate(cps):
            for _ in range(max(1, 9 - rank) + self.rnd.randint(0, 3)):
                self.open_ticket(cp)
            for _ in range(self.rnd.randint(3, 9)):
                self.done_ticket(cp, rank)
        self.ticket(self.now - timedelta(minutes=7), "new")
        self.dispatches(list(self.session.scalars(select(Hospital).order_by(Hospital.id)))[:5])
        local = self.now + timedelta(hours=7)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(hours=7)
        self.calls_of_day(midnight, self.now)
        self.calls_of_day(midnight - timedelta(days=7), midnight - timedelta(days=6))
        for seconds, line in ((95, "1022"), (40, "1022"), (15, "115")):
            self.call(self.now - timedelta(seconds=seconds), line, ended=False)
        self.session.commit()


@pytest.mark.parametrize(("name", "width", "height"), [("console-wallboard", 1366, 768),
                                                       ("console-wallboard-tv", 1920, 1080),
                                                       ("console-wallboard-tablet", 820, 1180)])
def test_screenshots_on_a_busy_morning(live_server, session, page, screenshot, name, width, height):
    # Whenever the suite runs, the pictures show today at 10:40 in Bình Dương: the server's
    # clock (time-machine) and the browser's (Playwright) are both moved there, and run on.
    today = datetime.now(VN).date()
    morning = datetime(today.year, today.month, today.day, 10, 40, tzinfo=VN).astimezone(UTC)
    with time_machine.travel(morning, tick=True):
        page.clock.install(time=morning)
        make_user(session, "supervisor", username="sup", display_name="Trần Văn Bình")
        for n in range(3):
            make_user(session, "operator", username=f"op{n}").on_duty = True
        make_user(session, "dispatcher", username="disp").on_duty = True
        session.commit()
        Morning(session, datetime.now(UTC)).build()
        look(page, live_server, screenshot, name, width, height)


def look(page, live_server, screenshot, name: str, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server, "sup")
    page.goto(f"{live_server}/supervisor")
    wait_live(page)
    expect(page.locator("#wallboard")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#at-risk tbody tr[data-row]").first).to_be_visible()
    page.wait_for_timeout(300)
    path = screenshot(name)
    page.screenshot(path=str(path.with_name(f"{name}-viewport.png")))  # what fits on the screen
