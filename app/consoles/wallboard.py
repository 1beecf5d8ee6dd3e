"""Supervisor wallboard: being built (issue 6)."""

from __future__ import annotations

from flask import Blueprint

from app.consoles import render_console, roles_required
from tickets.accounts import Role

bp = Blueprint("wallboard", __name__)


@bp.get("/supervisor")
@roles_required(Role.SUPERVISOR, Role.ADMIN)
def board():
    return render_console("consoles/wallboard.html", "wallboard")
