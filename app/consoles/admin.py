"""Administration: being built (issue 6)."""

from __future__ import annotations

from flask import Blueprint

from app.consoles import render_console, roles_required
from tickets.accounts import Role

bp = Blueprint("admin", __name__)


@bp.get("/admin")
@roles_required(Role.ADMIN)
def index():
    return render_console("consoles/admin.html", "admin")
