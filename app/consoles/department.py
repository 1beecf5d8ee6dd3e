"""Department queue: being built (issue 6)."""

from __future__ import annotations

from flask import Blueprint

from app.consoles import render_console, roles_required
from tickets.accounts import Role

bp = Blueprint("department", __name__)


@bp.get("/department")
@roles_required(Role.STAFF)
def queue():
    return render_console("consoles/department.html", "department")
