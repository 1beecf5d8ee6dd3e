"""Hospital: being built (issue 6)."""

from __future__ import annotations

from flask import Blueprint

from app.consoles import render_console, roles_required
from tickets.accounts import Role

bp = Blueprint("hospital", __name__)


@bp.get("/hospital")
@roles_required(Role.HOSPITAL)
def board():
    return render_console("consoles/hospital.html", "hospital")
