"""The floors the voice webhook is compared with, served by the same gunicorn config.

``create("bare")``: a Flask endpoint that parses the same form and answers a small TwiML.
``create("durable")``: the same, plus one row written to PostgreSQL in its own transaction
(a committed INSERT, with the server's default synchronous_commit), through a pooled
SQLAlchemy engine built exactly like the app's.
``create("lean")``: a ceiling rather than a floor — the work a new call needs, done as cheaply
as hand-written code can do it, with none of the app's structure (benchmarks/lean_call.py).

    gunicorn -c gunicorn.conf.py "benchmarks.floor_app:create('durable')"

reads FLOOR_DATABASE_URL for the durable and lean floors (and REDIS_URL, TWILIO_AUTH_TOKEN,
PUBLIC_BASE_URL, SOCKETIO_CHANNEL for the lean one).
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from sqlalchemy import text

from tickets.db import make_engine

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="vi-VN">Xin chào</Say></Response>'
TABLE = "bench_floor"


def create(kind: str = "bare") -> Flask:
    if kind == "lean":
        from benchmarks.lean_call import create as create_lean

        return create_lean()
    if kind not in ("bare", "durable"):
        raise ValueError(f"unknown floor {kind!r}")
    app = Flask(__name__)
    engine = make_engine(os.environ["FLOOR_DATABASE_URL"]) if kind == "durable" else None

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.post("/floor")
    def floor():
        sid = request.form.get("CallSid", "")
        if engine is not None:
            with engine.begin() as conn:
                conn.execute(text(f"INSERT INTO {TABLE} (sid, at) VALUES (:sid, now())"),  # noqa: S608
                             {"sid": sid})
        return Response(TWIML, mimetype="text/xml")

    return app
