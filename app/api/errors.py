"""Every API failure as JSON ``{"error": {"code", "message", "fields"?}}``."""

from __future__ import annotations

from flask import Flask, flash, jsonify, redirect, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from tickets.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed

STATUS_BY_ERROR = {ValidationFailed: 422, NotFound: 404, Forbidden: 403, Conflict: 409}


class ApiError(Exception):
    """A refusal raised by the web layer itself (bad JSON, no credentials)."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None):
    body: dict = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify({"error": body}), status


def fields_of(exc: ValidationError) -> dict[str, str]:
    """pydantic's errors keyed by dotted field name ("lat", "body")."""
    fields: dict[str, str] = {}
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]) or "body"
        fields.setdefault(name, err["msg"])
    return fields


def _is_api() -> bool:
    return request.path.startswith(("/api/", "/open311/"))


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.fields)

    @app.errorhandler(ValidationError)
    def _invalid(exc: ValidationError):
        return error_response(400, "invalid_request", "The request is not valid", fields_of(exc))

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        status = next(s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls))
        return error_response(status, exc.code, exc.message, exc.fields)

    @app.errorhandler(StaleDataError)
    def _stale(_exc: StaleDataError):
        return error_response(409, "stale_version",
                              "Someone changed this ticket at the same time; reload and retry")

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        if _is_api():
            return error_response(400, "csrf_failed",
                                  "Missing or invalid CSRF token: send X-CSRFToken, or use a bearer token")
        # A form posted from a page left open too long: say so and let them try again.
        flash(_("Your session expired. Please try again."), "error")
        return redirect(request.full_path if request.method == "GET" else request.path)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if not _is_api():
            return exc
        if exc.code == 413:
            return error_response(413, "body_too_large", "The request body is over the 1 MB limit")
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)
