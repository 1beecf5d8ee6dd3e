"""115 dispatch: being built (issue 6)."""

from __future__ import annotations

from flask import Blueprint

from app.consoles import render_console, roles_required
from tickets.accounts import Role

bp = Blueprint("dispatch", __name__)


@bp.get("/dispatch")
@roles_required(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
def board():
    return render_console("consoles/dispatch.html", "dispatch")
