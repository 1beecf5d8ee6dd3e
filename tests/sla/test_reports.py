"""GET /api/sla/summary and /api/sla/breaches on a small fixed data set whose figures are
worked out by hand below: per contact point, per hospital and in total, per line and hour;
who sees which rows; the CSV and XLSX exports; and bad input answered 400 naming the field."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import time_machine
from sqlalchemy import update

from app.api.sla import EXPORT_COLUMNS
from tests.factories import make_user
from tests.sla.dataset import NOW
from tests.sla.helpers import at, bearer, iso
from tickets.accounts import User

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
H = 3600.0


def _people(session) -> None:
    make_user(session, "supervisor", username="sup")
    make_user(session, "admin", username="adm")
    make_user(session, "operator", username="op")
    make_user(session, "dispatcher", username="disp")
    make_user(session, "staff", username="tnmt", contact_point="SO_TNMT")
    make_user(session, "hospital", username="bv", hospital="BVDK_TINH")


def _get(client, username: str, path: str, **query):
    with time_machine.travel(NOW, tick=False):
        return client.get(path, query_string=query, headers=bearer(client, username))


def _summary(client, username: str = "sup", **query) -> dict:
    response = _get(client, username, "/api/sla/summary", **{**NOVEMBER, **query})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _clock_figures(row: dict, clock: str) -> tuple:
    c = row["clocks"][clock]
    return c["scored"], c["met"], c["on_time_pct"], c["median_seconds"], c["p90_seconds"]


def _backlog(row: dict) -> tuple:
    b = row["backlog"]
    return b["lt_1d"], b["d1_3"], b["d3_7"], b["gt_7d"]


# ---- the figures ---------------------------------------------------------------------------

def test_per_contact_point_figures_match_the_hand_computed_ones(client, session, data):
    _people(session)
    body = _summary(client)
    assert (body["from"], body["to"], body["line"], body["timezone"]) == (
        "2026-11-01", "2026-11-30", None, "Asia/Ho_Chi_Minh")
    rows = {r["code"]: r for r in body["contact_points"]}
    assert list(rows) == ["SO_TNMT", "SO_XAYDUNG"]
    a, b = rows["SO_TNMT"], rows["SO_XAYDUNG"]
    assert a["name"] == "Sở Tài nguyên và Môi trường tỉnh Bình Dương"
    assert a["tickets"] == 9  # t1 t2 t3 t4 t5 t8 t9 t10 t15 (t15: 1 Nov 00:30 local = 31 Oct UTC)
    # First response: 3600 met, 18000 late, 7200 met (the unscored 1000 and t6's 999 left out).
    # p90 = 7200 + 0.8 * (18000 - 7200)
    assert _clock_figures(a, "first_response") == (3, 2, 66.7, 7200.0, 15840.0)
    # Resolution runs: 36000 met, 20000 met, then reopened and 150000 late. p90 = 36000 + 0.8 * 114000.
    assert _clock_figures(a, "resolution") == (3, 2, 66.7, 36000.0, 127200.0)
    assert _clock_figures(a, "acknowledgement") == (0, 0, None, None, None)
    # Open now: t4 (16 h), t14 (11.5 h); t5 (2 d); t9 (5 d); t3 (21 d), t6 (47 d).
    assert _backlog(a) == (2, 1, 1, 2)
    assert (a["resolved"], a["reopened"], a["reopen_pct"]) == (4, 1, 25.0)  # t1 t2 t10 t15; t2
    assert (a["surveys"], a["satisfied"], a["satisfaction_pct"]) == (3, 2, 66.7)  # 1, 2, 1
    assert b["tickets"] == 1
    assert _clock_figures(b, "first_response") == (1, 1, 100.0, 600.0, 600.0)
    assert (b["reopen_pct"], b["surveys"], b["satisfaction_pct"], _backlog(b)) == (0.0, 0, None, (0, 0, 0, 0))


def test_per_hospital_and_total_figures(client, session, data):
    _people(session)
    body = _summary(client)
    [h] = body["hospitals"]
    assert (h["code"], h["tickets"]) == ("BVDK_TINH", 2)
    assert _clock_figures(h, "acknowledgement") == (2, 1, 50.0, 122.5, 184.5)  # 45 met, 200 late
    assert _clock_figures(h, "resolution") == (1, 1, 100.0, 3000.0, 3000.0)
    assert _backlog(h) == (0, 0, 0, 1)
    total = body["total"]
    assert total["tickets"] == 13  # A 9, B 1, H 2 and t16 (not assigned yet)
    # [600, 3600, 7200, 18000]: median (3600 + 7200) / 2, p90 = 7200 + 0.7 * 10800
    assert _clock_figures(total, "first_response") == (4, 3, 75.0, 5400.0, 14760.0)
    # [1800, 3000, 20000, 36000, 150000]: p90 = 36000 + 0.6 * 114000
    assert _clock_figures(total, "resolution") == (5, 4, 80.0, 20000.0, 104400.0)
    assert _clock_figures(total, "acknowledgement") == (2, 1, 50.0, 122.5, 184.5)
    assert _backlog(total) == (2, 1, 1, 4)  # A's, t13 and t16
    assert (total["resolved"], total["reopened"], total["reopen_pct"]) == (6, 1, 16.7)
    assert (total["surveys"], total["satisfied"], total["satisfaction_pct"]) == (3, 2, 66.7)


def test_calls_per_line_and_local_hour(client, session, data):
    _people(session)
    calls = [(c["line"], c["hour"], c["calls"], c["answered_15s_pct"], c["abandoned_pct"])
             for c in _summary(client)["calls"]]
    assert calls == [
        ("1022", 0, 1, 100.0, 0.0),  # 00:10 local on 1 Nov (still 31 Oct in UTC)
        ("1022", 9, 4, 25.0, 25.0),  # 10 s answered; 20 s answered late; 30 s abandoned; voicemail
        ("1022", 14, 1, 100.0, 0.0),
        ("115", 9, 1, 100.0, 0.0),
        ("115", 23, 1, 0.0, 0.0),  # still ringing: neither answered nor abandoned
    ]


def test_the_line_filter_narrows_every_table(client, session, data):
    _people(session)
    body = _summary(client, line="115")
    assert (body["contact_points"], [h["code"] for h in body["hospitals"]]) == ([], ["BVDK_TINH"])
    assert body["total"]["tickets"] == 2
    assert {c["line"] for c in body["calls"]} == {"115"}


def test_the_default_period_is_the_last_30_local_days(client, session, data):
    _people(session)
    body = _get(client, "sup", "/api/sla/summary").get_json()
    assert (body["from"], body["to"]) == ("2026-11-02", "2026-12-01")
    assert body["total"]["tickets"] == 13  # t14 (1 Dec) comes in, t15 (1 Nov) goes out
    assert body["generated_at"] == iso(NOW)


@pytest.mark.postgresql_only
def test_percentiles_are_computed_by_postgresql(client, session, live_data, monkeypatch):
    """The figures above came from percentile_cont on PostgreSQL, not from the fallback."""
    from tickets import reports

    monkeypatch.setattr(reports, "percentile_cont", lambda *_: pytest.fail("Python fallback used"))
    monkeypatch.setattr(reports.sla_rollup, "percentiles", lambda *_: pytest.fail("Python percentiles used"))
    _people(session)
    assert _clock_figures(_summary(client)["total"], "resolution")[3:] == (20000.0, 104400.0)


# ---- who sees what -------------------------------------------------------------------------

def test_each_role_reads_only_its_own_rows(client, session, data):
    _people(session)
    seen = {}
    for user in ("sup", "adm", "op", "disp", "tnmt", "bv"):
        body = _summary(client, user)
        seen[user] = ([r["code"] for r in body["contact_points"]], [r["code"] for r in body["hospitals"]],
                      body["total"]["tickets"], sorted({c["line"] for c in body["calls"]}))
    assert seen == {
        "sup": (["SO_TNMT", "SO_XAYDUNG"], ["BVDK_TINH"], 13, ["1022", "115"]),
        "adm": (["SO_TNMT", "SO_XAYDUNG"], ["BVDK_TINH"], 13, ["1022", "115"]),
        "op": (["SO_TNMT", "SO_XAYDUNG"], [], 11, ["1022"]),
        "disp": ([], ["BVDK_TINH"], 2, ["115"]),
        "tnmt": (["SO_TNMT"], [], 9, ["1022"]),
        "bv": ([], ["BVDK_TINH"], 2, ["115"]),
    }
    staff_total = _summary(client, "tnmt")["total"]
    assert _clock_figures(staff_total, "first_response") == (3, 2, 66.7, 7200.0, 15840.0)  # A's alone


def test_an_account_with_no_share_is_refused_and_anonymous_is_401(client, session, data):
    _people(session)
    make_user(session, "staff", username="orphan")
    session.execute(update(User).where(User.username == "orphan").values(contact_point_id=None))
    session.commit()
    for path in ("/api/sla/summary", "/api/sla/breaches"):
        refused = _get(client, "orphan", path)
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "forbidden"
        assert client.get(path).status_code == 401


# ---- breaches ------------------------------------------------------------------------------

def _breaches(client, user: str = "sup", **query) -> dict:
    response = _get(client, user, "/api/sla/breaches", **{**NOVEMBER, **query})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _listed(body: dict) -> list[tuple[str, str, str]]:
    return [(i["ticket"]["description"], i["clock"], i["state"]) for i in body["items"]]


def test_breaches_are_listed_newest_first_with_the_ticket(client, session, data):
    _people(session)
    body = _breaches(client)
    assert body["total"] == 4
    assert _listed(body) == [("t2", "resolution", "stopped"),  # due 25 Nov, stopped late
                             ("t13", "resolution", "running"),  # due 16 Nov 12:00, marked by the sweep
                             ("t13", "acknowledgement", "stopped"),  # due 16 Nov 10:01
                             ("t2", "first_response", "stopped")]  # due 5 Nov
    late = {(i["ticket"]["description"], i["clock"]): i["late_seconds"] for i in body["items"]}
    assert late == {("t2", "resolution"): 6000.0, ("t13", "resolution"): 15 * 24 * H,  # 24/7 clock
                    ("t13", "acknowledgement"): 140.0, ("t2", "first_response"): 3600.0}
    first = body["items"][0]
    assert first["due_at"] == iso(at(2026, 11, 25, 10))
    assert first["ticket"]["contact_point"]["code"] == "SO_TNMT"
    assert first["ticket"]["id"] == data.tickets["t2"]


def test_a_clock_running_past_due_is_a_breach_before_the_sweep_marks_it(client, session, data):
    _people(session)
    body = _breaches(client, to="2026-12-01")
    assert _listed(body)[0] == ("t4", "first_response", "running")  # due 1 Dec 09:00
    assert body["items"][0]["late_seconds"] == 2.5 * H  # 09:00-11:30, then lunch
    assert body["total"] == 5


def test_breaches_filter_and_page(client, session, data):
    _people(session)
    assert [i["ticket"]["description"] for i in _breaches(client, contact_point="SO_TNMT")["items"]] == ["t2", "t2"]
    assert _breaches(client, contact_point="SO_XAYDUNG")["total"] == 0
    assert [i["clock"] for i in _breaches(client, line="115")["items"]] == ["resolution", "acknowledgement"]
    page = _breaches(client, page=2, per_page=3)
    assert (_listed(page), page["total"], page["page"], page["per_page"]) == (
        [("t2", "first_response", "stopped")], 4, 2, 3)


def test_breaches_show_each_reader_only_their_share(client, session, data):
    _people(session)
    assert {i["ticket"]["description"] for i in _breaches(client, "tnmt")["items"]} == {"t2"}
    assert {i["ticket"]["description"] for i in _breaches(client, "bv")["items"]} == {"t13"}
    assert _breaches(client, "op")["total"] == 2
    assert _breaches(client, "disp")["total"] == 2
    assert _breaches(client, "tnmt", contact_point="SO_XAYDUNG")["total"] == 0  # not theirs to see


# ---- exports -------------------------------------------------------------------------------

def test_the_csv_export_is_utf8_with_a_bom_for_excel(client, session, data):
    _people(session)
    response = _get(client, "sup", "/api/sla/summary", **NOVEMBER, format="csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="sla-summary_2026-11-01_2026-11-30.csv"'
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert [r["contact_point"] for r in rows] == ["SO_TNMT", "SO_XAYDUNG"]
    a = rows[0]
    assert a["name"] == "Sở Tài nguyên và Môi trường tỉnh Bình Dương"
    assert (a["tickets"], a["first_response_on_time_pct"], a["first_response_median_seconds"],
            a["first_response_p90_seconds"]) == ("9", "66.7", "7200.0", "15840.0")
    assert (a["acknowledgement_on_time_pct"], a["backlog_gt_7d"], a["reopen_pct"], a["satisfaction_pct"]) == (
        "", "2", "25.0", "66.7")


def test_the_xlsx_export_opens_in_openpyxl(client, session, data):
    _people(session)
    response = _get(client, "sup", "/api/sla/summary", **NOVEMBER, format="xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == list(EXPORT_COLUMNS)
    a = dict(zip(EXPORT_COLUMNS, rows[1], strict=True))
    assert (a["contact_point"], a["name"], a["tickets"]) == (
        "SO_TNMT", "Sở Tài nguyên và Môi trường tỉnh Bình Dương", 9)
    assert (a["resolution_on_time_pct"], a["resolution_p90_seconds"], a["satisfaction_pct"]) == (
        66.7, 127200.0, 66.7)
    assert a["acknowledgement_median_seconds"] is None
    assert len(rows) == 3


def test_a_staff_export_holds_only_their_contact_point(client, session, data):
    _people(session)
    raw = _get(client, "tnmt", "/api/sla/summary", **NOVEMBER, format="csv").get_data()
    assert [r["contact_point"] for r in csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))] == ["SO_TNMT"]


# ---- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "query", "field"), [
    ("/api/sla/summary", {"from": "2026-11-30", "to": "2026-11-01"}, "from"),
    ("/api/sla/summary", {"from": "2026-13-01"}, "from"),
    ("/api/sla/summary", {"from": "01/11/2026"}, "from"),
    ("/api/sla/summary", {"to": "1764547200"}, "to"),
    ("/api/sla/summary", {"line": "116"}, "line"),
    ("/api/sla/summary", {"format": "pdf"}, "format"),
    ("/api/sla/summary", {"from": "2020-01-01", "to": "2026-11-30"}, "to"),
    ("/api/sla/summary", {"since": "2026-11-01"}, "since"),
    ("/api/sla/breaches", {"from": "2026-12-01", "to": "2026-11-30"}, "from"),
    ("/api/sla/breaches", {"contact_point": "SO_NOPE"}, "contact_point"),
    ("/api/sla/breaches", {"per_page": "0"}, "per_page"),
    ("/api/sla/breaches", {"page": "x"}, "page"),
])
def test_bad_input_is_400_naming_the_field(client, session, path, query, field):
    make_user(session, "supervisor", username="sup")
    response = _get(client, "sup", path, **query)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert field in error["fields"], error
