"""The ticket detail page: being built (issue 6)."""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("ticket_page", __name__)


@bp.get("/tickets/<int:ticket_id>")
@login_required
def detail(ticket_id: int):
    return ""
