"""Socket.IO connections: authenticated only, placed in the rooms their role may read."""

from __future__ import annotations

from flask_socketio import join_room

from app.auth import current_actor
from app.database import db
from app.extensions import socketio
from tickets.accounts import Role, User, user_for_token
from tickets.db import utcnow


def rooms_of(user: User) -> list[str]:
    """The rooms a user joins: the mirror of ``publisher.rooms_for``."""
    match user.role:
        case Role.OPERATOR:
            return ["operators"]
        case Role.DISPATCHER:
            return ["dispatch"]
        case Role.STAFF:
            return [f"cp:{user.contact_point.code}"] if user.contact_point else []
        case Role.HOSPITAL:
            return [f"hospital:{user.hospital.code}"] if user.hospital else []
        case Role.SUPERVISOR | Role.ADMIN:
            return ["supervisors"]
    return []


@socketio.on("connect")
def connect(auth=None):
    user = current_actor()
    if user is None and isinstance(auth, dict) and isinstance(auth.get("token"), str):
        user = user_for_token(db.session, auth["token"], utcnow())
    if user is None:
        raise ConnectionRefusedError("unauthorized")
    for room in rooms_of(user):
        join_room(room)
    return True
