"""Pages: the landing page after sign-in and the language switch."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required

from app.api.public import public_ticket
from app.api.serialize import ticket_out
from app.consoles import landing_url
from app.database import db
from app.i18n import LANGUAGES
from tickets.db import utcnow
from tickets.errors import NotFound
from tickets.queries import TicketFilter, list_tickets

bp = Blueprint("views", __name__)


@bp.get("/")
@login_required
def home():
    """Each user starts on their console; a role without one sees the plain list."""
    target = landing_url(current_user)
    if target is not None:
        return redirect(target)
    tickets, total = list_tickets(db.session, current_user, TicketFilter(), utcnow(), per_page=20)
    return render_template("home.html", tickets=[ticket_out(t, current_user) for t in tickets],
                           total=total)


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in LANGUAGES:
        session["lang"] = code
    target = request.referrer or url_for("views.home")
    return redirect(target if target.startswith(request.host_url) else url_for("views.home"))


@bp.get("/track")
@bp.get("/track/<code>")
def track(code: str | None = None):
    """The public status page: a form, and the ticket's progress when a code is given."""
    code = code or request.args.get("code", "").strip() or None
    ticket, status = None, 200
    if code:
        try:
            ticket = public_ticket(code)
        except NotFound:
            status = 404
    return render_template("track.html", code=code, ticket=ticket), status


@bp.errorhandler(RateLimitExceeded)
def _too_many_misses(_exc: RateLimitExceeded):
    """Too many unknown codes from one address (app/rate_limits.py): the form, and when to retry."""
    from app.rate_limits import wait_text

    return render_template("track.html", code=None, ticket=None, refused=wait_text()), 429
