"""Domain errors. The web layer maps each to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a refused request that changed nothing."""

    code = "error"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    """Input names something that does not exist or breaks a rule (HTTP 422)."""

    code = "validation_failed"


class NotFound(DomainError):
    """Missing, or not visible to this user: both answer the same (HTTP 404)."""

    code = "not_found"


class Forbidden(DomainError):
    """The user may read the ticket but not do this to it (HTTP 403)."""

    code = "forbidden"


class Conflict(DomainError):
    """The ticket changed meanwhile, or the action is not allowed in its status (HTTP 409)."""

    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class StaleVersion(Conflict):
    code = "stale_version"
