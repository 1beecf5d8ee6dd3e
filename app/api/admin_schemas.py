"""Shapes of the administration API (/api/admin/...): request bodies are strict, outputs carry
no secret. Types and lengths are checked here (400 with the field named); whether a code
exists or a rule holds is the domain's (422 with the field named)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from app.api.schemas import Body, HospitalOut, Query
from tickets.accounts import Role
from tickets.audit import ACTIONS, ENTITIES
from tickets.lifecycle import LINES
from tickets.sla import CLOCKS

RoleName = Literal[tuple(r.value for r in Role)]
# Create bodies accept empty text: the domain then names every missing field in one answer.
CodeIn = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
OptionalCode = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
Item = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Items = Annotated[list[Item], Field(max_length=300)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None
LEAD_HELP = ("Lead of the contact point (staff) or hospital (hospital users): told first when an SLA clock "
             "nears or passes its due time")
MOBILE_HELP = "A mobile for SMS alerts, stored in E.164; a landline is refused; empty or null removes it"


# ---- accounts ---------------------------------------------------------------------------------

class AdminUserCreate(Body):
    username: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)]
    role: RoleName
    password: Annotated[str, StringConstraints(max_length=200)]
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    contact_point: OptionalCode = None
    hospital: OptionalCode = None
    is_lead: bool = Field(False, description=LEAD_HELP)
    phone: Phone = Field(None, description="Mobile for SLA escalation SMS (leads, supervisors). " + MOBILE_HELP)


class AdminUserUpdate(Body):
    """Fields to change; fields left out stay as they are."""

    role: RoleName | None = None
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    contact_point: OptionalCode = None
    hospital: OptionalCode = None
    active: bool | None = None
    is_lead: bool | None = Field(None, description=LEAD_HELP + "; a role other than staff or hospital clears it")
    phone: Phone = Field(None, description="Mobile for SLA escalation SMS (leads, supervisors). " + MOBILE_HELP)


class AdminPasswordBody(Body):
    password: Annotated[str, StringConstraints(max_length=200)]


class AdminUserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    contact_point: str | None
    hospital: str | None
    active: bool
    is_lead: bool
    phone: str | None
    on_duty: bool
    created_at: datetime | None


class AdminUserList(BaseModel):
    items: list[AdminUserOut]


# ---- the directory ----------------------------------------------------------------------------

class AdminContactPointFields(Body):
    name_vi: Name | None = None
    name_en: Name | None = None
    kind: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] | None = None
    district_code: OptionalCode = None
    categories: Items | None = None
    aliases: Items | None = None
    phone: Phone = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    active: bool | None = None


class AdminContactPointCreate(AdminContactPointFields):
    code: CodeIn
    name_vi: Name
    name_en: Name = ""
    kind: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] = "department"
    categories: Items = Field(default_factory=list)
    aliases: Items = Field(default_factory=list)
    active: bool = True


class AdminContactPointOut(BaseModel):
    code: str
    name_vi: str
    name_en: str
    kind: str
    district_code: str | None
    categories: list[str]
    aliases: list[str]
    phone: str | None
    email: str | None
    active: bool


class AdminContactPointList(BaseModel):
    items: list[AdminContactPointOut]


class AdminHospitalFields(Body):
    name: Name | None = None
    kind: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] | None = None
    district_code: OptionalCode = None
    ward_code: OptionalCode = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    emergency: bool | None = None
    specialties: Items | None = None
    available: bool | None = None
    desk_phone: Phone = None
    sms_phone: Phone = Field(None, description="The emergency desk's mobile for dispatch SMS. " + MOBILE_HELP)
    active: bool | None = None


class AdminHospitalCreate(AdminHospitalFields):
    code: CodeIn
    name: Name
    kind: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] = ""
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    emergency: bool = True
    specialties: Items = Field(default_factory=list)
    available: bool = True
    active: bool = True


class AdminHospitalOut(HospitalOut):
    desk_phone: str | None
    sms_phone: str | None
    active: bool


class AdminHospitalList(BaseModel):
    items: list[AdminHospitalOut]


class AdminCategoryFields(Body):
    name_vi: Name | None = None
    name_en: Name | None = None
    keywords: Items | None = None
    default_contact_point: OptionalCode = None
    district_level: bool | None = None


class AdminCategoryCreate(AdminCategoryFields):
    code: CodeIn
    name_vi: Name
    name_en: Name = ""
    keywords: Items = Field(default_factory=list)
    district_level: bool = False


class AdminCategoryOut(BaseModel):
    code: str
    name_vi: str
    name_en: str
    keywords: list[str]
    default_contact_point: str | None
    district_level: bool


class AdminCategoryList(BaseModel):
    items: list[AdminCategoryOut]


# ---- routing rules and SLA policies -------------------------------------------------------------

RuleCell = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]


class AdminRuleFields(Body):
    priority: int | None = Field(None, description="Lower is tried first; 0–100000")
    category: RuleCell | None = Field(None, description="A category code, or empty/* for any")
    district_code: RuleCell | None = None
    ward_code: RuleCell | None = None
    contact_point: RuleCell | None = Field(None, description="A contact point code, or @district")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class AdminRuleCreate(AdminRuleFields):
    category: RuleCell = ""
    district_code: RuleCell = ""
    ward_code: RuleCell = ""
    contact_point: RuleCell
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class AdminRuleOrder(Body):
    ids: Annotated[list[int], Field(max_length=10_000)]


class AdminRuleOut(BaseModel):
    id: int
    rank: int = Field(description="1 = tried first (priority, then specificity, then position)")
    position: int
    priority: int
    category: str
    district_code: str
    ward_code: str
    contact_point: str
    note: str
    fallback: bool


class AdminRuleList(BaseModel):
    items: list[AdminRuleOut]


Target = Annotated[str, StringConstraints(strip_whitespace=True, max_length=12)]


class AdminPolicyFields(Body):
    line: Literal[LINES] | None = None
    category: RuleCell | None = None
    priority: RuleCell | None = None
    contact_point: RuleCell | None = None
    clock: Literal[CLOCKS] | None = None
    target: Target | None = Field(None, description='Like the CSV: "90s", "30m", "4h"')
    hours: Literal["business", "always"] | None = None
    warning_share: float | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class AdminPolicyCreate(AdminPolicyFields):
    line: Literal[LINES]
    category: RuleCell = "*"
    priority: RuleCell = "*"
    contact_point: RuleCell = "*"
    clock: Literal[CLOCKS]
    target: Target
    hours: Literal["business", "always"] = "business"
    warning_share: float | None = 0.75
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class AdminPolicyOut(BaseModel):
    id: int
    position: int
    line: str
    category: str
    priority: str
    contact_point: str
    clock: str
    target: str
    target_seconds: int
    hours: str
    warning_share: float
    name: str


class AdminPolicyList(BaseModel):
    items: list[AdminPolicyOut]


# ---- canned responses -------------------------------------------------------------------------

class AdminCannedFields(Body):
    category: CodeIn | None = None
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    body: Annotated[str, StringConstraints(max_length=4000)] | None = None
    active: bool | None = None
    position: Annotated[int, Field(ge=0, le=100_000)] | None = None


class AdminCannedCreate(AdminCannedFields):
    category: CodeIn
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
    body: Annotated[str, StringConstraints(max_length=4000)]
    active: bool = True
    position: Annotated[int, Field(ge=0, le=100_000)] | None = 0


class AdminCannedOut(BaseModel):
    id: int
    category: str
    title: str
    body: str
    active: bool
    position: int


class AdminCannedList(BaseModel):
    items: list[AdminCannedOut]


# ---- the audit log and reference lists ----------------------------------------------------------

class AdminAuditQuery(Query):
    entity: Literal[ENTITIES] | None = None
    key: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    actor: int | None = Field(None, description="The acting user's id")
    from_: date | None = Field(None, alias="from", description="First day (local time), inclusive")
    to: date | None = Field(None, description="Last day (local time), inclusive")
    page: Annotated[int, Field(ge=1)] = 1
    per_page: Annotated[int, Field(ge=1, le=200)] = 50


class AdminAuditOut(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    actor: str
    entity: Literal[ENTITIES]
    key: str
    action: Literal[ACTIONS]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AdminAuditPageOut(BaseModel):
    items: list[AdminAuditOut]
    total: int
    page: int
    per_page: int


class AdminReferenceOut(BaseModel):
    roles: list[str]
    lines: list[str]
    clocks: list[str]
    priorities: list[str]
    districts: list[dict[str, Any]]
    wards: list[dict[str, Any]]
    contact_points: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    hospitals: list[dict[str, Any]]
    contact_point_kinds: list[str]
    hospital_kinds: list[str]
    specialties: list[str]
