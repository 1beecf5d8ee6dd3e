"""Demo mode only: ring the hotline from the console, through the real webhooks.

The call is the command-line simulator's (``integrations.simulator``): the same parameters,
signed with the same token, so the webhook checks the signature and runs exactly as for a
Twilio call. Only the transport differs — the requests go through the app in-process instead
of over HTTP, so it works whatever ``PUBLIC_BASE_URL`` points at.
"""

from __future__ import annotations

import secrets
import threading
from typing import Annotated, Literal

from flask import Blueprint, Flask, current_app
from pydantic import BaseModel, Field, StringConstraints

from app.api.endpoint import endpoint
from app.api.errors import ApiError
from app.api.schemas import Body
from app.database import db
from tickets.accounts import Role
from tickets.errors import Forbidden, NotFound
from tickets.phones import normalise_phone

bp = Blueprint("api_demo", __name__, url_prefix="/api/demo")
SIMULATE_ROLES = {Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN}
# The demo's sample callers (app/demo.py): a simulated call from one of them shows a history.
DEMO_CALLERS = ("0912345678", "0987654321", "0903111222", "0977000111", "0868123456", "0345678901")
CALL_TIMEOUT = 30  # seconds for the whole simulated call


class SimulateCallBody(Body):
    line: Literal["1022", "115"] = "1022"
    from_: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] | None = Field(
        None, alias="from", description="The caller's number; a demo caller when left out")
    digits: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,2}$")] | None = Field(
        None, description="The IVR menu key the caller presses (1022); none skips the menu")
    hang_up: bool = Field(False, description="The caller hangs up before anyone answers (a call-back)")


class SimulateStep(BaseModel):
    path: str
    status: int


class SimulateCallOut(BaseModel):
    call_sid: str
    line: str
    caller: str
    steps: list[SimulateStep]


def _wsgi_post(app: Flask, sim):
    """Post each signed webhook through the app itself (what ``http_post`` does over HTTP)."""
    client = app.test_client()

    def post(path: str, params: dict[str, str]) -> tuple[int, str]:
        response = client.post(path, data=params, headers={"X-Twilio-Signature": sim.sign(path, params)})
        return response.status_code, response.get_data(as_text=True)

    return post


@endpoint(bp, "/simulate-call", "POST", summary="Demo mode: ring the hotline with a simulated, signed call",
          tag="demo", body=SimulateCallBody, response=SimulateCallOut)
def simulate_call(actor, body: SimulateCallBody):
    app = current_app._get_current_object()  # noqa: SLF001 - the app itself, for another thread
    if not app.config["HOTLINE_DEMO"]:
        raise NotFound("Not found")
    if actor.role not in SIMULATE_ROLES:
        raise Forbidden("Only operators, dispatchers and supervisors take calls")
    from app.telephony import auth_token
    from integrations.simulator import SimulatedCall, run_call

    token = auth_token(app)
    if token is None:  # pragma: no cover - demo mode always has a token
        raise ApiError(503, "not_configured", "No token to sign webhooks with")
    caller = normalise_phone(body.from_ or secrets.choice(DEMO_CALLERS), field="from")
    sim = SimulatedCall(base_url=app.config["PUBLIC_BASE_URL"], auth_token=token,
                        line_number=app.config[f"HOTLINE_NUMBER_{body.line}"], from_number=caller)
    # End this request's read transaction first: on SQLite it would block the webhooks' writes.
    db.session.rollback()
    result: dict = {}

    def ring() -> None:
        # A thread of its own gets its own app and request contexts (and database session),
        # exactly as a webhook arriving from Twilio would.
        try:
            result["steps"] = run_call(sim, _wsgi_post(app, sim), digits=body.digits, hang_up=body.hang_up)
        except Exception as exc:  # reported below; the thread must not die silently
            result["error"] = exc

    thread = threading.Thread(target=ring, name="simulate-call", daemon=True)
    thread.start()
    thread.join(CALL_TIMEOUT)
    if "steps" not in result:
        raise ApiError(502, "simulation_failed", f"The simulated call did not complete: {result.get('error')!r}")
    return SimulateCallOut(call_sid=sim.sid, line=body.line, caller=caller,
                           steps=[SimulateStep(path=p, status=s) for p, s in result["steps"]])
