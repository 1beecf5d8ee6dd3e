"""The consoles: one server-rendered page per kind of user, kept live over Socket.IO.

Each console is a module with its own blueprint; this package holds what they share:
which console belongs to which role (the landing page after sign-in and the navigation),
the role check, and the JSON each page hands to its script.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import Flask, abort, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from tickets.accounts import Role


@dataclass(frozen=True)
class Console:
    endpoint: str
    title: object  # a lazy translation
    roles: frozenset[str]


# Navigation order; the first console a role may open is its landing page.
CONSOLES = (
    Console("operator.console", _l("Operator console"), frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})),
    Console("dispatch.board", _l("115 dispatch"), frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})),
    Console("department.queue", _l("Department queue"), frozenset({Role.STAFF})),
    Console("hospital.board", _l("Hospital"), frozenset({Role.HOSPITAL})),
    Console("wallboard.board", _l("Supervisor wallboard"), frozenset({Role.SUPERVISOR, Role.ADMIN})),
    Console("admin.index", _l("Administration"), frozenset({Role.ADMIN})),
)
# The supervisor lands on the wallboard, not on the operator console listed first.
LANDING = {Role.SUPERVISOR: "wallboard.board", Role.ADMIN: "wallboard.board"}

MODULES = ("operator", "dispatch", "department", "hospital", "wallboard", "admin", "ticket_page")


def consoles_for(user) -> list[Console]:
    return [c for c in CONSOLES if user.role in c.roles]


def landing_url(user) -> str | None:
    """Where ``user`` starts after signing in."""
    if user.role in LANDING:
        return url_for(LANDING[user.role])
    mine = consoles_for(user)
    return url_for(mine[0].endpoint) if mine else None


def roles_required(*roles: str) -> Callable:
    """A console page for these roles only: others get 403, strangers the login page."""
    allowed = frozenset(roles)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def checked(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)
        return checked
    return decorate


def init_app(app: Flask) -> None:
    for name in MODULES:
        app.register_blueprint(importlib.import_module(f"app.consoles.{name}").bp)

    @app.context_processor
    def _navigation() -> dict:
        if not current_user.is_authenticated:
            return {"consoles": []}
        return {"consoles": consoles_for(current_user)}


# Words every console script needs; each page adds its own through ``render_console``.
COMMON_STRINGS = {
    "connected": _l("Live"),
    "connecting": _l("Connecting…"),
    "disconnected": _l("Connection lost — reconnecting…"),
    "error": _l("Something went wrong. Nothing was changed."),
    "network": _l("The server could not be reached. Nothing was changed."),
    "conflict": _l("Someone else changed this ticket first; it has been reloaded."),
    "due_in": _l("due in"),
    "overdue": _l("overdue by"),
    "none": _l("None"),
    "saved": _l("Saved"),
}


def render_console(template: str, name: str, *, strings: dict | None = None, page: dict | None = None,
                   **context):
    """Render a console page: ``strings`` are the page script's words (lazy translations),
    ``page`` its initial data; both reach the script as JSON."""
    from flask import render_template

    from app import labels

    words = {k: str(v) for k, v in {**COMMON_STRINGS, **(strings or {})}.items()}
    label_json = {"status": {k: str(v) for k, v in labels.STATUS.items()},
                  "priority": {k: str(v) for k, v in labels.PRIORITY.items()},
                  "role": {k: str(v) for k, v in labels.ROLE.items()}}
    return render_template(template, console_name=name, console_strings=words,
                           console_labels=label_json, page=page, **context)
