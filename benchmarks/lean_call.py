"""A ceiling for the voice webhook: what a new call must do, written as leanly as possible.

Not the app and not a design for it — a measuring stick. It does what ``POST /twilio/voice``
does for a new 1022 call, with none of the app's structure (no ORM, no domain events, no
services, no routing, no policy table):

- checks the Twilio signature (one HMAC) and reads the form;
- counts the operators on duty and reads the caller's last 10 tickets (one round trip);
- writes, in ONE PostgreSQL statement (data-modifying CTEs), the ticket with its SLA due
  times, its two history events, the call, its SLA clock and the tracking SMS in the outbox;
  commits (server default synchronous_commit: durable, like the floors and the app);
- enqueues the SMS job in RQ (same options as the app: unique job id, retries) and sends
  ``ticket.created`` and ``call.incoming`` through the Socket.IO Redis message queue;
- answers the same IVR menu TwiML, built once.

If this cannot reach half the durable floor on a machine, the app, which does the same work
through its domain layer, cannot either: the benchmark reports it beside both.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from datetime import UTC, datetime, timedelta

from flask import Flask, Response, request
from flask_socketio import SocketIO
from redis import Redis
from rq import Queue, Retry
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from tickets.calendar import DEFAULT_HOURS, BusinessCalendar
from tickets.db import make_engine

_READ = text("""
SELECT (SELECT count(*) FROM users WHERE role = 'operator' AND on_duty AND active) AS on_duty,
       coalesce((SELECT json_agg(h) FROM (SELECT id, code, status, category_code, created_at
                                          FROM tickets WHERE caller_phone = :phone
                                          ORDER BY created_at DESC LIMIT 10) h), '[]') AS history
""")

_WRITE = text("""
WITH t AS (
  INSERT INTO tickets (code, line, channel, status, priority, description, caller_phone, callback_needed,
                       category_confirmed, waiting_on_caller, created_at, updated_at, first_response_due,
                       sla_state, version)
  VALUES (:code, '1022', 'phone', 'new', 'normal', '', :phone, false, false, false, :now, :now, :due, 'ok', 1)
  RETURNING id),
e AS (
  INSERT INTO ticket_events (ticket_id, action, actor_label, at, data)
  SELECT id, 'created', 'Twilio', :now, CAST(:created AS json) FROM t
  UNION ALL SELECT id, 'call_received', 'Twilio', :now, CAST(:received AS json) FROM t
  RETURNING id),
c AS (
  INSERT INTO calls (sid, ticket_id, line, from_number, to_number, status, started_at, voicemail, callback_needed)
  SELECT :sid, id, '1022', :from_raw, :to, 'ringing', :now, false, false FROM t RETURNING id),
k AS (
  INSERT INTO sla_clocks (ticket_id, clock, business_hours, target_seconds, started_at, warn_at, due_at,
                          escalation_step)
  SELECT id, 'first_response', true, 14400, :now, :warn, :due, 0 FROM t RETURNING id),
o AS (
  INSERT INTO outbound_messages (ticket_id, to_number, body, kind, status, attempts, created_at)
  SELECT id, :phone, :body, 'tracking', 'queued', 0, :now FROM t RETURNING id)
SELECT (SELECT id FROM t), (SELECT id FROM c), (SELECT id FROM o), (SELECT count(*) FROM e), (SELECT count(*) FROM k)
""")

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ2345679"
_MENU = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather input="dtmf speech" language="vi-VN" '
         'numDigits="1" action="{base}/twilio/voice/gather"><Say language="vi-VN" voice="Google.vi-VN-Standard-A">'
         "Tổng đài 1022 Bình Dương xin nghe. Bấm phím 1 …</Say></Gather>"
         '<Redirect>{base}/twilio/voice/gather?skipped=1</Redirect></Response>')


def create() -> Flask:
    app = Flask(__name__)
    engine = make_engine(os.environ["FLOOR_DATABASE_URL"])
    base = os.environ["PUBLIC_BASE_URL"].rstrip("/")
    signer = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    redis = Redis.from_url(os.environ["REDIS_URL"])
    sms = Queue("sms", connection=redis)
    events = SocketIO(message_queue=os.environ["REDIS_URL"],
                      channel=os.environ.get("SOCKETIO_CHANNEL", "flask-socketio"))
    calendar = BusinessCalendar(timezone="Asia/Ho_Chi_Minh", hours=DEFAULT_HOURS)
    menu = _MENU.format(base=base)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.post("/twilio/voice")
    def voice():
        form = request.form
        expected = signer.compute_signature(base + request.path, form)
        if not hmac.compare_digest(expected.encode(), request.headers.get("X-Twilio-Signature", "").encode()):
            return Response("Invalid signature", status=403)
        sid, phone, to = form["CallSid"], form["From"], form["To"]
        now = datetime.now(UTC)
        code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
        due = calendar.add(now, timedelta(hours=4))
        warn = calendar.add(now, timedelta(hours=3))
        with engine.begin() as conn:
            on_duty, history = conn.execute(_READ, {"phone": phone}).one()
            ticket_id, call_id, message_id, _, _ = conn.execute(_WRITE, {
                "code": code, "phone": phone, "now": now, "due": due, "warn": warn, "sid": sid,
                "from_raw": phone, "to": to,
                "created": json.dumps({"line": "1022", "channel": "phone", "priority": "normal"}),
                "received": json.dumps({"call_sid": sid, "caller": phone}),
                "body": f"Tổng đài 1022 Bình Dương đã tiếp nhận phản ánh của bạn. Mã tra cứu: {code}. "
                        f"Theo dõi tại {base}/track/{code}"}).one()
        sms.enqueue("app.tasks.messages.send_message", message_id, job_id=f"sms-{message_id}", unique=True,
                    retry=Retry(max=3, interval=[10, 60, 300]))
        ticket = {"id": ticket_id, "code": code, "line": "1022", "status": "new", "priority": "normal",
                  "caller_phone": phone, "created_at": now.isoformat(), "first_response_due": due.isoformat()}
        rooms = ["supervisors", "operators"]
        events.emit("ticket.created", {"ticket": ticket, "action": "created"}, to=rooms)
        events.emit("call.incoming", {"call_sid": sid, "line": "1022", "from": phone, "ticket": ticket,
                                      "history": history}, to=rooms)
        return Response(menu if on_duty else "<Response/>", mimetype="text/xml")

    return app
