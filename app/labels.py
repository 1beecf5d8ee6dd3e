"""Human names for the codes of the domain (statuses, roles, priorities), translatable."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

STATUS = {"new": _l("New"), "assigned": _l("Assigned"), "in_progress": _l("In progress"),
          "resolved": _l("Resolved"), "closed": _l("Closed"), "cancelled": _l("Cancelled")}
ROLE = {"operator": _l("Operator"), "dispatcher": _l("Dispatcher"), "staff": _l("Department staff"),
        "hospital": _l("Hospital"), "supervisor": _l("Supervisor"), "admin": _l("Administrator")}
PRIORITY = {"emergency": _l("Emergency"), "high": _l("High"), "normal": _l("Normal"), "low": _l("Low")}


def init_app(app: Flask) -> None:
    app.jinja_env.globals["labels"] = {"status": STATUS, "role": ROLE, "priority": PRIORITY}
