"""Operator console: being built (issue 6)."""

from __future__ import annotations

from flask import Blueprint

from app.consoles import render_console, roles_required
from tickets.accounts import Role

bp = Blueprint("operator", __name__)


@bp.get("/console")
@roles_required(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
def console():
    return render_console("consoles/operator.html", "operator")
