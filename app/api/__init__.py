"""The JSON API: tickets, directory, tokens and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, request, session

from app.extensions import csrf

docs = Blueprint("api_docs", __name__, url_prefix="/api")
API_VERSION = "1.0.0"


@docs.get("/openapi.json")
def openapi_json():
    from app.api.openapi import build_document

    return build_document(API_VERSION)


_NAMES: set[str] = set()


def blueprints() -> tuple[Blueprint, ...]:
    """Every API blueprint. Imported here, not at the top, so that importing one API module
    (say ``app.api.serialize`` from the publisher) does not pull in all the others."""
    from app.api import admin, admin_directory, calls, demo, directory, public, routing, sla, tickets, tokens, wallboard
    from app.api.admin_api_keys import bp as admin_api_keys
    from app.api.admin_calendar import bp as admin_calendar

    return (tickets.bp, directory.bp, tokens.bp, public.bp, calls.bp, sla.bp, routing.bp, demo.bp, wallboard.bp,
            admin.bp, admin_directory.bp, admin_api_keys, admin_calendar, docs)


def _csrf_for_cookie_sessions() -> None:
    # Bearer-token clients cannot be tricked by another site into sending their token;
    # a browser's session cookie can, so cookie-authenticated writes need the CSRF token.
    if (request.blueprint in _NAMES and request.method in ("POST", "PUT", "PATCH", "DELETE")
            and current_app.config.get("WTF_CSRF_ENABLED", True)
            and "_user_id" in session  # a signed-in browser; anyone else gets 401 as usual
            and not request.headers.get("Authorization")):
        csrf.protect()


def init_app(app: Flask) -> None:
    from app.api import errors

    errors.init_app(app)
    for bp in blueprints():
        _NAMES.add(bp.name)
        csrf.exempt(bp)
        app.register_blueprint(bp)
    app.before_request(_csrf_for_cookie_sessions)
