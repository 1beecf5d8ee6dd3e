"""The floor for the Socket.IO fan-out benchmark: a bare Flask-SocketIO app.

Same async mode (threading) and the same gunicorn config as the hotline, no authentication,
no rooms, no message queue: ``POST /emit`` sends one event to every connected client.
Whatever the hotline adds on top (auth, rooms, the Redis message queue) shows as the
difference from this floor, measured in the same run.

    gunicorn -c gunicorn.conf.py "benchmarks.socket_floor_app:create()"
"""

from __future__ import annotations

import time

from flask import Flask, request
from flask_socketio import SocketIO


def create() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "floor"  # noqa: S105 - a throw-away benchmark server
    socketio = SocketIO(app, async_mode="threading")

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.post("/emit")
    def emit():
        socketio.emit("bench", {"round": request.get_json()["round"], "sent": time.time()})
        return "", 204

    return app
