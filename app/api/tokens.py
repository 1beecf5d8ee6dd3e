"""Bearer tokens for API clients."""

from __future__ import annotations

from flask import Blueprint

from app.api.endpoint import endpoint
from app.api.errors import ApiError
from app.api.schemas import TokenOut, TokenRequest
from app.database import db
from app.timefmt import local
from tickets.accounts import TOKEN_LIFETIME, authenticate, issue_token
from tickets.db import utcnow

bp = Blueprint("api_auth", __name__, url_prefix="/api/auth")


@endpoint(bp, "/token", "POST", summary="Exchange a username and password for a bearer token",
          tag="auth", body=TokenRequest, response=TokenOut, public=True)
def create_token(body: TokenRequest):
    user = authenticate(db.session, body.username, body.password)
    if user is None:
        raise ApiError(401, "invalid_credentials", "Wrong username or password")
    now = utcnow()
    token = issue_token(db.session, user, now)
    db.session.commit()
    return TokenOut(token=token, expires_at=local(now + TOKEN_LIFETIME))
