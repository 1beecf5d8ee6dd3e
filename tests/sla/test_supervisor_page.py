"""GET /supervisor/sla: the summary and the breaches on one page, for supervisors and admins;
and the two endpoints in the OpenAPI document."""

from __future__ import annotations

import time_machine

from tests.factories import PASSWORD, make_user
from tests.sla.dataset import NOW


def _page(client, username: str | None, query: str = "from=2026-11-01&to=2026-11-30"):
    with time_machine.travel(NOW, tick=False):
        if username:
            client.post("/login", data={"username": username, "password": PASSWORD})
        return client.get(f"/supervisor/sla?{query}")


def test_a_supervisor_sees_the_summary_and_the_breaches_in_vietnamese(client, session, data):
    make_user(session, "supervisor", username="sup")
    response = _page(client, "sup")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'lang="vi"' in html
    assert 'id="sla-summary"' in html and 'id="sla-breaches"' in html
    assert "Sở Tài nguyên và Môi trường tỉnh Bình Dương" in html
    assert "Bệnh viện Đa khoa tỉnh Bình Dương" in html
    assert "66.7 %" in html  # A's first response on time
    summary, _, breaches = html.partition('id="sla-breaches"')
    assert summary.count("<tr") == 1 + 3 + 1  # header, A, B, H and the total
    assert breaches.count("<tr>") == 1 + 4  # header and the four November breaches
    assert "25/11/2026" in html  # t2's resolution was due then


def test_an_admin_may_filter_by_line(client, session, data):
    make_user(session, "admin", username="adm")
    html = _page(client, "adm", "from=2026-11-01&to=2026-11-30&line=115").get_data(as_text=True)
    assert "Bệnh viện Đa khoa tỉnh Bình Dương" in html
    assert "Sở Tài nguyên và Môi trường tỉnh Bình Dương" not in html


def test_other_roles_are_refused_and_strangers_sent_to_sign_in(client, session):
    make_user(session, "staff", username="tnmt", contact_point="SO_TNMT")
    assert _page(client, None).status_code == 302
    assert "/login" in _page(client, None).headers["Location"]
    assert _page(client, "tnmt").status_code == 403


def test_a_bad_period_is_400(client, session):
    make_user(session, "supervisor", username="sup")
    assert _page(client, "sup", "from=2026-11-30&to=2026-11-01").status_code == 400
    assert _page(client, "sup", "from=yesterday").status_code == 400


def test_an_empty_period_says_so(client, session):
    make_user(session, "supervisor", username="sup")
    html = _page(client, "sup", "from=2020-01-01&to=2020-01-31").get_data(as_text=True)
    assert 'id="sla-breaches"' not in html


def test_the_endpoints_are_in_the_openapi_document(client):
    doc = client.get("/api/openapi.json").get_json()
    summary = doc["paths"]["/api/sla/summary"]["get"]
    assert [p["name"] for p in summary["parameters"]] == ["from", "to", "line", "format"]
    assert summary["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("SummaryOut")
    breaches = doc["paths"]["/api/sla/breaches"]["get"]
    assert [p["name"] for p in breaches["parameters"]] == ["from", "to", "line", "contact_point", "page",
                                                          "per_page"]
    assert {"from", "to", "contact_points", "hospitals", "total", "calls"} <= set(
        doc["components"]["schemas"]["SummaryOut"]["properties"])
