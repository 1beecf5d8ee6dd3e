"""The supervisor's pages: the SLA standing and the breaches, in plain HTML."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from pydantic import ValidationError

from app.api.errors import ApiError
from app.api.sla import BreachQuery, breach_out, period_of, summary_out
from app.calendars import sla_calendars
from app.database import db
from tickets import reports
from tickets.accounts import Role
from tickets.db import utcnow
from tickets.sla import CLOCKS

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")


@bp.get("/sla")
@login_required
def sla():
    if current_user.role not in (Role.SUPERVISOR, Role.ADMIN):
        abort(403)
    args = {k: v for k, v in request.args.items() if k in ("from", "to", "line") and v}
    try:
        query = BreachQuery.model_validate(args)
        period = period_of(query)
    except (ValidationError, ApiError):
        abort(400)
    now = utcnow()
    summary = summary_out(reports.summary(db.session, current_user, period, now, line=query.line), now)
    items, total = reports.breaches(db.session, current_user, period, now, sla_calendars(),
                                    line=query.line, per_page=50)
    return render_template("supervisor_sla.html", summary=summary, clocks=CLOCKS,
                           breaches=[breach_out(b) for b in items], breach_total=total)
