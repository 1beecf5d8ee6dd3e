"""The JSON API: tickets, directory, tokens and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, request, session

from app.api import calls, directory, errors, public, routing, sla, tickets, tokens
from app.api.openapi import build_document
from app.extensions import csrf

docs = Blueprint("api_docs", __name__, url_prefix="/api")
API_VERSION = "1.0.0"


@docs.get("/openapi.json")
def openapi_json():
    return build_document(API_VERSION)


BLUEPRINTS = (tickets.bp, directory.bp, tokens.bp, public.bp, calls.bp, sla.bp, routing.bp, docs)
_NAMES = {bp.name for bp in BLUEPRINTS}


def _csrf_for_cookie_sessions() -> None:
    # Bearer-token clients cannot be tricked by another site into sending their token;
    # a browser's session cookie can, so cookie-authenticated writes need the CSRF token.
    if (request.blueprint in _NAMES and request.method in ("POST", "PUT", "PATCH", "DELETE")
            and current_app.config.get("WTF_CSRF_ENABLED", True)
            and "_user_id" in session  # a signed-in browser; anyone else gets 401 as usual
            and not request.headers.get("Authorization")):
        csrf.protect()


def init_app(app: Flask) -> None:
    errors.init_app(app)
    for bp in BLUEPRINTS:
        csrf.exempt(bp)
        app.register_blueprint(bp)
    app.before_request(_csrf_for_cookie_sessions)
