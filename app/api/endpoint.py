"""Declaring an API endpoint once: its route, auth, input and output schemas.

The same declaration parses requests, serialises responses and feeds the OpenAPI document,
which keeps views down to "call a service, return its result".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Blueprint, request
from pydantic import BaseModel

from app.api.errors import ApiError
from app.auth import current_actor


@dataclass(frozen=True)
class Endpoint:
    path: str
    method: str
    summary: str
    tag: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    public: bool


ENDPOINTS: list[Endpoint] = []


def _json_object(optional: bool) -> dict[str, Any]:
    if optional and not request.get_data():
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object",
                       {"body": "expected a JSON object with Content-Type: application/json"})
    return data


def endpoint(bp: Blueprint, rule: str, method: str = "GET", *, summary: str, tag: str,
             body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
             response: type[BaseModel] | None = None, status: int = 200,
             public: bool = False, body_optional: bool = False) -> Callable:
    """Register ``fn`` as ``method rule``; it receives ``actor``, ``body`` and ``query``."""

    def decorate(fn: Callable) -> Callable:
        @wraps(fn)
        def view(**kwargs: Any):
            if not public:
                actor = current_actor()
                if actor is None:
                    raise ApiError(401, "unauthenticated",
                                   "Sign in or send Authorization: Bearer <token>")
                kwargs["actor"] = actor
            if body is not None:
                kwargs["body"] = body.model_validate(_json_object(body_optional))
            if query is not None:
                kwargs["query"] = query.model_validate(request.args.to_dict())
            result = fn(**kwargs)
            if isinstance(result, BaseModel):
                return result.model_dump(mode="json"), status
            return result

        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=[method])
        ENDPOINTS.append(Endpoint(
            path=(bp.url_prefix or "") + rule, method=method.lower(), summary=summary, tag=tag,
            body=body, query=query, response=response, status=status, public=public,
        ))
        return view

    return decorate
