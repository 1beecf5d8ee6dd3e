"""The OpenAPI 3.1 document, generated from the registered endpoints and their schemas."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.api.endpoint import ENDPOINTS
from app.api.schemas import ErrorOut

REF = "#/components/schemas/{model}"
ERRORS = {"400": "Malformed request", "401": "Not signed in", "403": "Not allowed",
          "404": "Not found (or not visible to you)", "409": "Conflict: status or version",
          "413": "Body over 1 MB", "422": "Refers to something unknown"}


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for kind, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        params.append({"name": name, "in": "path", "required": True,
                       "schema": {"type": "integer" if kind == "int" else "string"}})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), params


def build_document(version: str) -> dict[str, Any]:
    """The whole document: paths, operations and component schemas."""
    models: set[type[BaseModel]] = {ErrorOut}
    for ep in ENDPOINTS:
        models.update(m for m in (ep.body, ep.response) if m is not None)
    modes = [(m, "validation") for m in models]
    _, defs = models_json_schema(modes, ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    error_ref = {"$ref": REF.format(model="ErrorOut")}
    for ep in ENDPOINTS:
        path, params = _path(ep.path)
        op: dict[str, Any] = {"summary": ep.summary, "tags": [ep.tag],
                              "operationId": f"{ep.method}_{path}".replace("/", "_").strip("_")}
        if ep.query is not None:
            for name, prop in ep.query.model_json_schema(ref_template=REF)["properties"].items():
                params.append({"name": name, "in": "query", "required": False, "schema": prop})
        if params:
            op["parameters"] = params
        if ep.body is not None:
            op["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": {"$ref": REF.format(model=ep.body.__name__)}}}}
        ok: dict[str, Any] = {"description": "OK"}
        if ep.response is not None:
            ok["content"] = {"application/json": {
                "schema": {"$ref": REF.format(model=ep.response.__name__)}}}
        op["responses"] = {str(ep.status): ok, **{
            code: {"description": text, "content": {"application/json": {"schema": error_ref}}}
            for code, text in ERRORS.items()}}
        if not ep.public:
            op["security"] = [{"bearer": []}, {"session": []}]
        paths.setdefault(path, {})[ep.method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hotline 1022/115 API", "version": version,
                 "description": "Tickets, routing and directory of the 1022/115 hotlines."},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }
