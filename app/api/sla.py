"""SLA reports over HTTP: the summary (JSON, CSV, XLSX) and the breaches."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from flask import Blueprint, Response, current_app
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy import select

from app.api.endpoint import endpoint
from app.api.errors import ApiError
from app.api.schemas import Code, Line, Named, Query
from app.calendars import sla_calendars
from app.database import db
from app.timefmt import local
from tickets import reports
from tickets.db import utcnow
from tickets.directory import ContactPoint
from tickets.sla import CLOCKS

bp = Blueprint("api_sla", __name__, url_prefix="/api/sla")


def _local_date(value: Any) -> Any:
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError("expected a date as YYYY-MM-DD")
        return date.fromisoformat(value.strip())
    return value


LocalDate = Annotated[date, BeforeValidator(_local_date)]


class PeriodQuery(Query):
    start: LocalDate | None = Field(None, alias="from", description="First local day (default: 29 days ago)")
    end: LocalDate | None = Field(None, alias="to", description="Last local day, included (default: today)")
    line: Line | None = None


class SummaryQuery(PeriodQuery):
    format: Literal["json", "csv", "xlsx"] = "json"


class BreachQuery(PeriodQuery):
    contact_point: Code | None = None
    page: Annotated[int, Field(ge=1)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 25


# ---- responses -------------------------------------------------------------------------

class ClockStatsOut(BaseModel):
    scored: int = Field(description="Runs stopped and scored")
    met: int
    on_time_pct: float | None
    median_seconds: float | None = Field(description="Working seconds, median of scored runs")
    p90_seconds: float | None


class BacklogOut(BaseModel):
    lt_1d: int
    d1_3: int
    d3_7: int
    gt_7d: int


class GroupOut(BaseModel):
    code: str | None
    name: str
    tickets: int
    clocks: dict[str, ClockStatsOut]
    backlog: BacklogOut
    resolved: int
    reopened: int
    reopen_pct: float | None
    surveys: int
    satisfied: int
    satisfaction_pct: float | None


class CallHourOut(BaseModel):
    line: Line
    hour: int = Field(description="Local hour of arrival, 0-23")
    calls: int
    answered_15s: int
    answered_15s_pct: float | None
    abandoned: int
    abandoned_pct: float | None


class SummaryOut(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)

    start: date = Field(alias="from")
    end: date = Field(alias="to")
    line: Line | None
    timezone: str
    generated_at: datetime
    contact_points: list[GroupOut]
    hospitals: list[GroupOut]
    total: GroupOut
    calls: list[CallHourOut]


class BreachTicketOut(BaseModel):
    id: int
    code: str
    line: Line
    status: str
    priority: str
    category: str | None
    description: str
    contact_point: Named | None
    hospital: Named | None
    created_at: datetime


class BreachOut(BaseModel):
    clock_id: int
    clock: str
    state: Literal["running", "paused", "stopped"]
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None
    target_seconds: int
    elapsed_seconds: float | None
    late_seconds: float = Field(description="Working time past due (so far, if running)")
    ticket: BreachTicketOut


class BreachPage(BaseModel):
    items: list[BreachOut]
    total: int
    page: int
    per_page: int


# ---- shared --------------------------------------------------------------------------

def period_of(query: PeriodQuery) -> reports.Period:
    """The asked period, checked: ``to`` defaults to today, ``from`` to 29 days before ``to``."""
    zone = current_app.config["HOTLINE_TIMEZONE"]
    end = query.end or reports.Period.last_days(utcnow(), 1, zone).end
    start = query.start or end - timedelta(days=reports.DEFAULT_DAYS - 1)
    if start > end:
        raise ApiError(400, "invalid_request", "The period is not valid", {"from": "must not be after to"})
    if (end - start).days >= reports.MAX_PERIOD_DAYS:
        raise ApiError(400, "invalid_request", "The period is too long",
                       {"to": f"at most {reports.MAX_PERIOD_DAYS} days from the first day"})
    return reports.Period(start, end, zone)


def group_out(row: reports.GroupRow) -> GroupOut:
    return GroupOut(
        code=row.code, name=row.name, tickets=row.tickets,
        clocks={c: ClockStatsOut(scored=s.scored, met=s.met, on_time_pct=s.on_time_pct,
                                 median_seconds=s.median_seconds, p90_seconds=s.p90_seconds)
                for c, s in row.clocks.items()},
        backlog=BacklogOut(**row.backlog), resolved=row.resolved, reopened=row.reopened,
        reopen_pct=row.reopen_pct, surveys=row.surveys, satisfied=row.satisfied,
        satisfaction_pct=row.satisfaction_pct)


def summary_out(result: reports.Summary, now: datetime) -> SummaryOut:
    return SummaryOut(
        start=result.period.start, end=result.period.end, line=result.line,
        timezone=result.period.timezone, generated_at=local(now),
        contact_points=[group_out(r) for r in result.contact_points],
        hospitals=[group_out(r) for r in result.hospitals], total=group_out(result.total),
        calls=[CallHourOut(line=c.line, hour=c.hour, calls=c.calls, answered_15s=c.answered_15s,
                           answered_15s_pct=c.answered_15s_pct, abandoned=c.abandoned,
                           abandoned_pct=c.abandoned_pct) for c in result.calls])


# ---- exports -----------------------------------------------------------------------------

EXPORT_COLUMNS = ("contact_point", "name", "tickets",
                  *(f"{c}_{m}" for c in CLOCKS for m in ("scored", "on_time_pct", "median_seconds",
                                                          "p90_seconds")),
                  *(f"backlog_{b}" for b in reports.BACKLOG_BUCKETS),
                  "resolved", "reopened", "reopen_pct", "surveys", "satisfaction_pct")


def export_rows(rows: list[reports.GroupRow]) -> list[list[Any]]:
    """The per-contact-point table, one list per row, in EXPORT_COLUMNS order."""
    table = []
    for r in rows:
        clocks = [v for c in CLOCKS for v in (r.clocks[c].scored, r.clocks[c].on_time_pct,
                                              r.clocks[c].median_seconds, r.clocks[c].p90_seconds)]
        table.append([r.code, r.name, r.tickets, *clocks, *(r.backlog[b] for b in reports.BACKLOG_BUCKETS),
                      r.resolved, r.reopened, r.reopen_pct, r.surveys, r.satisfaction_pct])
    return table


def _attachment(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def csv_export(result: reports.Summary) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows([["" if v is None else v for v in row] for row in export_rows(result.contact_points)])
    # The BOM makes Excel read the file as UTF-8 (Vietnamese names intact).
    return _attachment(out.getvalue().encode("utf-8-sig"), "text/csv",
                       f"sla-summary_{result.period.start}_{result.period.end}.csv")


def xlsx_export(result: reports.Summary) -> Response:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "SLA"
    sheet.append(list(EXPORT_COLUMNS))
    for row in export_rows(result.contact_points):
        sheet.append(row)
    sheet.freeze_panes = "C2"
    out = io.BytesIO()
    book.save(out)
    return _attachment(out.getvalue(),
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       f"sla-summary_{result.period.start}_{result.period.end}.xlsx")


# ---- endpoints ---------------------------------------------------------------------------

@endpoint(bp, "/summary", summary="SLA standing per contact point, hospital and line "
          "(format=csv|xlsx: the per-contact-point table as a download)", tag="sla",
          query=SummaryQuery, response=SummaryOut)
def sla_summary(actor, query: SummaryQuery):
    now = utcnow()
    result = reports.summary(db.session, actor, period_of(query), now, line=query.line)
    if query.format == "csv":
        return csv_export(result)
    if query.format == "xlsx":
        return xlsx_export(result)
    return summary_out(result, now)


def breach_out(b: reports.Breach) -> BreachOut:
    c, t = b.clock, b.ticket
    state = "stopped" if c.stopped_at else "paused" if c.paused_at else "running"
    cp, h = t.contact_point, t.hospital
    return BreachOut(
        clock_id=c.id, clock=c.clock, state=state, started_at=local(c.started_at),
        due_at=local(c.due_at), stopped_at=local(c.stopped_at), breached_at=local(c.breached_at),
        target_seconds=c.target_seconds, elapsed_seconds=c.elapsed_seconds, late_seconds=b.late_seconds,
        ticket=BreachTicketOut(
            id=t.id, code=t.code, line=t.line, status=t.status, priority=t.priority,
            category=t.category_code, description=t.description[:200],
            contact_point=Named(code=cp.code, name=cp.name_vi) if cp else None,
            hospital=Named(code=h.code, name=h.name) if h else None, created_at=local(t.created_at)))


def contact_point_id(code: str | None) -> int | None:
    if code is None:
        return None
    found = db.session.scalar(select(ContactPoint.id).where(ContactPoint.code == code))
    if found is None:
        raise ApiError(400, "invalid_request", "Unknown contact point",
                       {"contact_point": f"unknown code {code!r}"})
    return found


@endpoint(bp, "/breaches", summary="Breached clocks (running past due or stopped late), newest first",
          tag="sla", query=BreachQuery, response=BreachPage)
def sla_breaches(actor, query: BreachQuery):
    now = utcnow()
    items, total = reports.breaches(
        db.session, actor, period_of(query), now, sla_calendars(), line=query.line,
        contact_point_id=contact_point_id(query.contact_point), page=query.page, per_page=query.per_page)
    return BreachPage(items=[breach_out(b) for b in items], total=total, page=query.page,
                      per_page=query.per_page)
