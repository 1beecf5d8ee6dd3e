"""API shapes: the same pydantic models validate input, serialise output and generate
the OpenAPI document, so the three cannot drift apart."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from tickets.lifecycle import CHANNELS, LINES, PRIORITIES, SLA_STATES, Status
from tickets.services import CANCEL_REASONS

DESCRIPTION_LIMIT = 4000

Line = Literal[LINES]
Channel = Literal[CHANNELS]
Priority = Literal[PRIORITIES]
StatusName = Literal[tuple(s.value for s in Status)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=DESCRIPTION_LIMIT)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


def lat_lon_together(lon: float | None, info: ValidationInfo) -> float | None:
    """A ``lon`` validator for bodies with ``lat`` and ``lon`` (a field validator, not a model
    one, so the error names the field)."""
    if "lat" in info.data and (info.data["lat"] is None) != (lon is None):
        raise ValueError("lat and lon must be given together")
    return lon


class Body(BaseModel):
    """Request bodies: unknown fields and wrong JSON types are errors, not guesses."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Query strings arrive as text, so numbers and booleans are converted."""

    model_config = ConfigDict(extra="forbid")


class Versioned(Body):
    version: int | None = Field(
        None, description="The ticket version you acted on; 409 if it changed meanwhile."
    )


class TicketCreate(Body):
    line: Line
    channel: Channel
    caller_phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    caller_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    category: Code | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=DESCRIPTION_LIMIT)] = ""
    address: ShortText | None = None
    ward_code: Code | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = Field(None, validate_default=True)
    priority: Priority | None = None

    _lat_lon = field_validator("lon")(lat_lon_together)


class TicketUpdate(Versioned):
    """Fields to change; fields left out stay as they are."""

    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=DESCRIPTION_LIMIT)] | None = None
    caller_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    caller_phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    category: Code | None = None
    address: ShortText | None = None
    ward_code: Code | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    priority: Priority | None = None


class AssignBody(Versioned):
    hospital: Code | None = None
    contact_point: Code | None = Field(None, validate_default=True)
    reason: ShortText | None = None

    @field_validator("contact_point")
    @classmethod
    def _one_destination(cls, contact_point: str | None, info: ValidationInfo) -> str | None:
        if "hospital" in info.data and (contact_point is None) == (info.data["hospital"] is None):
            raise ValueError("give exactly one of contact_point or hospital")
        return contact_point


class CommentBody(Body):
    body: Text
    internal: bool = True


class TransferBody(Versioned):
    contact_point: Code
    reason: Text


class ResolveBody(Versioned):
    resolution: Text


class ReasonBody(Versioned):
    reason: Text


class CancelBody(Versioned):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=DESCRIPTION_LIMIT)] | None = Field(
        None, description="Why, in words; required unless reason_code is nuisance (then a default text is stored).")
    # Checked by the service (422 like any unknown code, as for categories), listed here for
    # the OpenAPI document.
    reason_code: Code = Field(
        "other", json_schema_extra={"enum": list(CANCEL_REASONS)},
        description="Why, as a code reports count: a nuisance call (prank, silent, abuse), "
                    "a duplicate, a wrong number, or other.")


class LinkBody(Versioned):
    duplicate_of: int = Field(description="The open ticket this one repeats; its caller becomes a follower there.")


class AskBody(Versioned):
    question: Text


class TokenRequest(Body):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TicketQuery(Query):
    status: StatusName | None = None
    line: Line | None = None
    contact_point: Code | None = None
    hospital: Code | None = None
    category: Code | None = None
    overdue: bool | None = None
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    page: Annotated[int, Field(ge=1)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 25


# ---- responses -------------------------------------------------------------------------

class Named(BaseModel):
    code: str
    name: str


class CallOut(BaseModel):
    sid: str
    status: str | None
    duration: int | None
    queue_time: int | None


class EventOut(BaseModel):
    id: int
    action: str
    actor: str
    at: datetime
    data: dict[str, Any]


class TicketOut(BaseModel):
    id: int
    code: str
    line: Line
    channel: Channel
    status: StatusName
    priority: Priority
    category: str | None
    description: str
    caller_phone: str | None
    caller_name: str | None
    address: str | None
    ward_code: str | None
    lat: float | None
    lon: float | None
    contact_point: Named | None
    hospital: Named | None
    call: CallOut | None
    callback_needed: bool
    waiting_on_caller: bool
    resolution: str | None
    created_at: datetime
    updated_at: datetime
    first_response_due: datetime | None
    resolution_due: datetime | None
    sla_state: Literal[SLA_STATES]
    satisfaction: int | None
    routing: dict[str, Any] | None = Field(
        description="The routing engine's proposal: destination, reasons, confidence, alternatives")
    category_confirmed: bool
    version: int
    cancel_reason: Literal[CANCEL_REASONS] | None = Field(
        description="Why it was cancelled, as a code; null unless cancelled.")
    nuisance: bool = Field(description="Cancelled as a nuisance call (prank, silent, abuse).")
    allowed_actions: list[str] = Field(
        description="What the requesting user may do to this ticket now."
    )


class TicketDetail(TicketOut):
    events: list[EventOut]


class TicketPage(BaseModel):
    items: list[TicketOut]
    total: int
    page: int
    per_page: int


class TokenOut(BaseModel):
    token: str
    expires_at: datetime


class ContactPointOut(BaseModel):
    code: str
    name_vi: str
    name_en: str
    kind: str
    district_code: str | None
    categories: list[str]


class HospitalOut(BaseModel):
    code: str
    name: str
    kind: str
    district_code: str | None
    ward_code: str | None
    address: str
    lat: float
    lon: float
    emergency: bool
    available: bool
    specialties: list[str]


class CategoryOut(BaseModel):
    code: str
    name_vi: str
    name_en: str
    default_contact_point: str | None
    district_level: bool


class WardOut(BaseModel):
    code: str
    name: str
    kind: str
    district_code: str
    district_name: str
    lat: float | None
    lon: float | None


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


class PublicStep(BaseModel):
    status: StatusName
    at: datetime


class PublicTicketOut(BaseModel):
    """What anyone holding the tracking code may see: no names, phones or free text."""

    code: str
    line: Line
    status: StatusName
    category: Named | None
    handled_by: str | None
    created_at: datetime
    updated_at: datetime
    steps: list[PublicStep]


class DutyBody(Body):
    on_duty: bool


class DutyOut(BaseModel):
    on_duty: bool
    operators_on_duty: int
    dispatchers_on_duty: int


class CallbackOut(BaseModel):
    call_sid: str
    line: Line
    caller: str
    started_at: datetime
    status: str
    voicemail: bool
    recording_url: str | None
    ticket: TicketOut


class CallbackList(BaseModel):
    items: list[CallbackOut]


class VoiceTokenOut(BaseModel):
    token: str
    identity: str
    expires_in: int


class RoutingPreviewBody(Body):
    line: Line = "1022"
    category: Code | None = None
    description: Annotated[str, StringConstraints(max_length=DESCRIPTION_LIMIT)] | None = None
    address: ShortText | None = None
    ward_code: Code | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    caller_phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    specialty: Annotated[str, StringConstraints(max_length=40)] | None = None


class RoutingPreviewOut(BaseModel):
    line: Line
    decision: dict[str, Any] | None = Field(None, description="1022: contact point, reasons, confidence, alternatives")
    hospitals: list[dict[str, Any]] = Field(default_factory=list, description="115: suitable hospitals, nearest first")
    duplicates: list[dict[str, Any]] = Field(default_factory=list)


class AvailabilityBody(Body):
    available: bool


class AvailabilityOut(BaseModel):
    code: str
    available: bool
