"""API keys for outside clients (Open311), administered over the JSON API: administrators only.

The key is in the answer to its creation and nowhere else, ever: lists show its first
characters; the audit log records who issued or revoked which key, never the key or its hash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask import Blueprint
from pydantic import BaseModel, Field, StringConstraints

from app.api.endpoint import endpoint
from app.api.schemas import Body
from app.database import db
from app.timefmt import local
from tickets import api_keys
from tickets.admin import require_admin
from tickets.api_keys import ApiKey
from tickets.db import utcnow

bp = Blueprint("api_admin_api_keys", __name__, url_prefix="/api/admin/api-keys")
TAG = "admin"
Scope = Literal[api_keys.SCOPES]


class ApiKeyCreate(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)]
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=len(api_keys.SCOPES),
                                         description="open311: create requests; read: see their details")]


class ApiKeyOut(BaseModel):
    name: str
    key_prefix: str = Field(description="The key's first characters, to tell keys apart")
    scopes: list[str]
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyIssued(ApiKeyOut):
    key: str = Field(description="The key itself: shown in this answer only, never again")


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]


def key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(name=key.name, key_prefix=key.key_prefix, scopes=key.scope_list,
                     created_at=local(key.created_at), created_by=key.created_by.username if key.created_by else None,
                     last_used_at=local(key.last_used_at), revoked_at=local(key.revoked_at))


@endpoint(bp, "", summary="Every API key, active and revoked (never the keys themselves)", tag=TAG,
          response=ApiKeyList)
def list_api_keys(actor):
    require_admin(actor)
    return ApiKeyList(items=[key_out(k) for k in api_keys.list_keys(db.session)])


@endpoint(bp, "", "POST", summary="Issue an API key; the answer is the only time it is shown", tag=TAG,
          body=ApiKeyCreate, response=ApiKeyIssued, status=201)
def create_api_key(actor, body: ApiKeyCreate):
    require_admin(actor)
    # A name taken, even by a concurrent request, is refused by create_key (422 on "name").
    key, plaintext, _events = api_keys.create_key(db.session, actor, utcnow(), name=body.name, scopes=body.scopes)
    db.session.commit()  # no console holds API keys: the audit row is committed, nothing is published
    return ApiKeyIssued(**key_out(key).model_dump(), key=plaintext)


@endpoint(bp, "/<name>", "DELETE", summary="Revoke an API key (it stops working at once)", tag=TAG,
          response=ApiKeyOut)
def revoke_api_key(actor, name: str):
    require_admin(actor)
    key, _events = api_keys.withdraw_key(db.session, actor, utcnow(), name)
    db.session.commit()
    return key_out(key)
