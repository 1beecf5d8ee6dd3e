"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at /open311/v2: the 1022
categories as services, and 1022 tickets as service requests, in JSON and XML.

Every answer, errors included, has the specification's shape: arrays of objects in JSON,
``<services><service>…``-style documents in XML, errors as ``[{"code", "description"}]``
(``<errors><error>…``) with the HTTP status equal to the code. Creating a request needs an
``api_key`` with the ``open311`` scope and opens a 1022 ticket on channel ``app`` through
the same service and publisher as every other channel. Reading is public but shows only
what the tracking page shows; a key with the ``read`` scope also sees the description and
the exact place.
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
import xml.etree.ElementTree as ET  # noqa: S405 - building documents only; nothing is parsed
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, current_app, request
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from app.database import db
from app.extensions import csrf
from app.publisher import commit_and_publish
from app.timefmt import local
from routing.geo import VIETNAM_BBOX
from tickets import open311
from tickets.api_keys import ApiKey, verify_key
from tickets.audit import ConfigVersion
from tickets.codes import display_code, normalise_code
from tickets.db import utcnow
from tickets.directory import Category, ContactPoint, Ward
from tickets.errors import DomainError
from tickets.models import Ticket
from tickets.permissions import SystemActor
from tickets.phones import normalise_phone
from tickets.services import NewTicket

log = logging.getLogger(__name__)
bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FORMAT = "<any(json, xml):fmt>"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# In XML, a list is an element holding one child per item, named in the singular.
ITEM_NAMES = {"services": "service", "service_requests": "request", "errors": "error", "endpoints": "endpoint",
              "formats": "format", "attributes": "attribute", "values": "value"}
# Characters XML 1.0 cannot carry at all (not even escaped): dropped from any text we send.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
SERVICE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
DESCRIPTION_LIMIT = 4000  # the specification's limit
LIMITS = {"address_string": 500, "first_name": 100, "last_name": 100, "email": 200, "device_id": 100,
          "account_id": 100, "media_url": 500, "service_code": 40, "address_id": 10, "phone": 40}
CONTACT = "Trung tâm Đường dây nóng 1022 tỉnh Bình Dương"
KEY_SERVICE = ("Khóa API do quản trị viên Đường dây nóng 1022 cấp (flask apikeys create hoặc "
               "/api/admin/api-keys); liên hệ " + CONTACT + ".")
STARTED = utcnow()


class Open311Error(Exception):
    """A refusal in the specification's error format; ``status`` is also each error's code."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__(descriptions[0] if descriptions else str(status))
        self.status, self.descriptions = status, descriptions


def init_app(app: Flask) -> None:
    """Serve /open311/v2; outside clients post forms without a CSRF token (the api_key is the check)."""
    csrf.exempt(bp)
    app.register_blueprint(bp)


# ---- one serialiser, two formats ----------------------------------------------------------

def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _element(name: str, value: Any) -> ET.Element:
    element = ET.Element(name)
    if isinstance(value, dict):
        element.extend(_element(k, v) for k, v in value.items())
    elif isinstance(value, list):
        element.extend(_element(ITEM_NAMES.get(name, "item"), v) for v in value)
    elif value is not None:
        element.text = _text(value)  # ElementTree escapes <, > and &
    return element


def render(data: Any, fmt: str, root: str, status: int = 200) -> Response:
    """``data`` as JSON, or as XML under ``root``, in UTF-8 with the diacritics as they are."""
    if fmt == "xml":
        body = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(_element(root, data), encoding="unicode")
    else:
        body = json.dumps(data, ensure_ascii=False)
    return Response(body.encode("utf-8"), status=status, content_type=CONTENT_TYPES[fmt])


def _format() -> str:
    fmt = (request.view_args or {}).get("fmt")
    return fmt if fmt in CONTENT_TYPES else ("xml" if request.path.endswith(".xml") else "json")


def _errors(status: int, descriptions: tuple[str, ...]) -> Response:
    db.session.rollback()  # a refused request writes nothing (not even a key's last use)
    return render([{"code": status, "description": d} for d in descriptions], _format(), "errors", status)


@bp.errorhandler(Open311Error)
def _refused(exc: Open311Error):
    return _errors(exc.status, exc.descriptions)


@bp.errorhandler(RateLimitExceeded)
def _too_many(exc: RateLimitExceeded):
    from app.rate_limits import retry_after

    return _errors(429, (f"Too many requests ({exc.description}); try again in {retry_after()} seconds",))


@bp.errorhandler(DomainError)
def _domain(exc: DomainError):
    return _errors(400, tuple(f"{k}: {v}" for k, v in exc.fields.items()) or (exc.message,))


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException):
    return _errors(exc.code or 400, (exc.description or exc.name,))


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    log.exception("Open311 request failed")
    return _errors(500, ("Internal error; the request was not processed",))


# ---- small helpers --------------------------------------------------------------------------

def iso(dt: datetime | None) -> str | None:
    """W3C date-time in the hotline's time zone: 2026-11-25T10:00:00+07:00."""
    value = local(dt)
    return value.replace(microsecond=0).isoformat() if value is not None else None


def _param(name: str) -> str:
    return (request.form.get(name) if request.method == "POST" else None) or request.args.get(name) or ""


def _check_jurisdiction() -> None:
    given = _param("jurisdiction_id").strip()
    if given and given != current_app.config["OPEN311_JURISDICTION"]:
        raise Open311Error(404, f"jurisdiction_id provided was not found: this endpoint serves "
                                f"{current_app.config['OPEN311_JURISDICTION']}")


def _key(scope: str | None) -> ApiKey | None:
    """The api_key sent, if any; a key that is unknown, revoked or without ``scope`` is 403."""
    given = _param("api_key").strip()
    if not given:
        return None
    key = verify_key(db.session, given, None, utcnow())
    if key is None:
        raise Open311Error(403, "Invalid api_key received -- unknown or revoked")
    if scope is not None and not key.has_scope(scope):
        raise Open311Error(403, f"This api_key does not have the '{scope}' scope")
    return key


# ---- discovery and services -----------------------------------------------------------------

@bp.get(f"/discovery.{FORMAT}")
def discovery(fmt: str):
    _check_jurisdiction()
    version = db.session.get(ConfigVersion, 1)
    # The service list changes when an administrator edits categories (the configuration
    # version moves) or when `init` reloads them (followed by a restart).
    changeset = iso(max(filter(None, (version.changed_at if version else None, STARTED))))
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + bp.url_prefix
    return render({"changeset": changeset, "contact": CONTACT, "key_service": KEY_SERVICE,
                   "endpoints": [{"specification": SPECIFICATION, "url": url, "changeset": changeset,
                                  "type": "production", "formats": ["text/xml", "application/json"]}]},
                  fmt, "discovery")


def service_out(category: Category, groups: dict[str, str]) -> dict[str, Any]:
    return {"service_code": category.code, "service_name": category.name_vi, "description": category.name_en,
            "metadata": False, "type": "realtime", "keywords": ", ".join(category.keywords or []),
            "group": groups.get(category.default_contact_point_code or "", "Khác")}


@bp.get(f"/services.{FORMAT}")
def services(fmt: str):
    _check_jurisdiction()
    groups = {cp.code: cp.name_vi for cp in db.session.scalars(select(ContactPoint))}
    categories = db.session.scalars(select(Category).order_by(Category.code))
    return render([service_out(c, groups) for c in categories], fmt, "services")


@bp.get(f"/services/<code>.{FORMAT}")
def service_definition(code: str, fmt: str):
    _check_jurisdiction()
    category = db.session.get(Category, code) if SERVICE_CODE.fullmatch(code) else None
    if category is None:
        raise Open311Error(404, f"service_code not found: {code[:40]}")
    # No service has extra questions (metadata is false): the definition has no attributes.
    return render({"service_code": category.code, "attributes": []}, fmt, "service_definition")


# ---- creating a request ---------------------------------------------------------------------

def _clean(value: str | None, *, multiline: bool = False) -> str:
    text = unicodedata.normalize("NFC", value or "")
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text if multiline else text.replace("\n", " ").replace("\t", " ")).strip()


def _coordinate(name: str, raw: str, low: float, high: float, problems: list[str]) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        problems.append(f"{name}: not a number")
        return None
    if not math.isfinite(value) or not low <= value <= high:
        problems.append(f"{name}: must be between {low:g} and {high:g}")
        return None
    return value


def _point(fields: dict[str, str], problems: list[str]) -> tuple[float | None, float | None]:
    lat_raw, lon_raw = fields["lat"], fields["long"]
    if not lat_raw and not lon_raw:
        return None, None
    if not (lat_raw and lon_raw):
        problems.append("lat and long must be given together")
        return None, None
    lat = _coordinate("lat", lat_raw, -90, 90, problems)
    lon = _coordinate("long", lon_raw, -180, 180, problems)
    if lat is None or lon is None:
        return None, None
    min_lat, max_lat, min_lon, max_lon = VIETNAM_BBOX
    if not (min_lat <= lat <= max_lat and min_lon <= lon <= max_lon):
        problems.append("lat/long: the point is outside Vietnam (are lat and long swapped?)")
        return None, None
    return lat, lon


def _check_lengths(fields: dict[str, str], problems: list[str]) -> None:
    for name, limit in LIMITS.items():
        if len(fields[name]) > limit:
            problems.append(f"{name}: longer than {limit} characters")
    if len(fields["description"]) > DESCRIPTION_LIMIT:
        problems.append(f"description: longer than {DESCRIPTION_LIMIT:,} characters")
    if fields["email"] and not EMAIL.fullmatch(fields["email"]):
        problems.append("email: not an e-mail address")
    if fields["media_url"] and not re.match(r"https?://\S+$", fields["media_url"]):
        problems.append("media_url: must be an http(s) URL")


def _check_references(fields: dict[str, str], problems: list[str]) -> None:
    if not fields["service_code"]:
        problems.append("service_code: required")
    elif not SERVICE_CODE.fullmatch(fields["service_code"]) or db.session.get(Category, fields["service_code"]) is None:
        problems.append(f"service_code not found: {fields['service_code'][:40]}")
    if fields["address_id"] and db.session.get(Ward, fields["address_id"]) is None:
        problems.append("address_id: not a ward code of this jurisdiction")


def _phone(raw: str, problems: list[str]) -> str | None:
    if not raw:
        return None
    try:
        return normalise_phone(raw, field="phone")
    except DomainError:
        problems.append("phone: not a valid phone number")
        return None


FIELDS = ("service_code", "lat", "long", "address_string", "address_id", "description", "phone", "first_name",
          "last_name", "email", "device_id", "account_id", "media_url")


def parse_request() -> tuple[NewTicket, dict[str, str]]:
    """The posted form as a new 1022 ticket (and the fields kept in its history), or 400 naming
    every problem at once."""
    fields = {name: _clean(request.form.get(name), multiline=name == "description") for name in FIELDS}
    problems: list[str] = []
    _check_lengths(fields, problems)
    _check_references(fields, problems)
    lat, lon = _point(fields, problems)
    if lat is None and not fields["address_string"] and not fields["address_id"] and not problems:
        problems.append("A location is required: lat and long, address_string or address_id")
    phone = _phone(fields["phone"], problems)
    if problems:
        raise Open311Error(400, *problems)
    name = " ".join(p for p in (fields["last_name"], fields["first_name"]) if p)  # Vietnamese order
    ticket = NewTicket(line=open311.LINE, channel="app", description=fields["description"], caller_phone=phone,
                       caller_name=name or None, category=fields["service_code"],
                       address=fields["address_string"] or None, ward_code=fields["address_id"] or None,
                       lat=lat, lon=lon)
    extra = {k: fields[k] for k in ("device_id", "account_id", "email", "media_url") if fields[k]}
    return ticket, extra


def service_notice(ticket: Ticket) -> str:
    track = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/track/{ticket.code}"
    return (f"Đường dây nóng 1022 đã tiếp nhận phản ánh. Mã theo dõi: {display_code(ticket.code)}. "
            f"Tra cứu tình trạng xử lý tại {track}")


def _created(ticket: Ticket, fmt: str, status: int) -> Response:
    return render([{"service_request_id": ticket.code, "service_notice": service_notice(ticket), "account_id": None}],
                  fmt, "service_requests", status)


def _submission_print(key: ApiKey) -> str | None:
    """Only a client naming its device can be recognised resubmitting the same thing."""
    if not _clean(request.form.get("device_id")):
        return None
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in ("api_key", "jurisdiction_id")]
    return open311.fingerprint(key.id, fields)


@bp.post(f"/requests.{FORMAT}")
def create_request(fmt: str):
    _check_jurisdiction()
    key = _key("open311")
    if key is None:
        raise Open311Error(403, "api_key was not provided: creating a request needs one")
    data, extra = parse_request()
    submitted = open311.submit_request(db.session, SystemActor(f"Open311: {key.name}"), data, utcnow(),
                                       print_=_submission_print(key), received={"client": key.name, **extra})
    if submitted.repeated:
        db.session.commit()  # the key's last use
        return _created(submitted.ticket, fmt, 200)
    commit_and_publish(db.session, submitted.events)
    return _created(submitted.ticket, fmt, 201)


# ---- reading requests -------------------------------------------------------------------------

def request_out(ticket: Ticket, places: open311.Places, detailed: bool) -> dict[str, Any]:
    """A 1022 ticket as a service request: publicly, what the tracking page shows and the
    ward; with the ``read`` scope, also the description, address and point."""
    out: dict[str, Any] = {
        "service_request_id": ticket.code, "status": open311.open311_status(ticket),
        "status_notes": open311.status_notes(ticket),
        "service_name": ticket.category.name_vi if ticket.category else None,
        "service_code": ticket.category_code}
    if detailed:
        out["description"] = ticket.description or ""
    out |= {"agency_responsible": ticket.contact_point.name_vi if ticket.contact_point else None,
            "service_notice": None, "requested_datetime": iso(ticket.created_at),
            "updated_datetime": iso(ticket.updated_at), "expected_datetime": iso(ticket.resolution_due),
            "address": (ticket.address or places.area(ticket)) if detailed else places.area(ticket)}
    if detailed:
        out |= {"lat": ticket.lat, "long": ticket.lon}
    return out


def _list(name: str) -> list[str] | None:
    raw = request.args.get(name, "")
    items = [item.strip() for item in raw.split(",") if item.strip()]
    return items or None


def _date(name: str, zone: ZoneInfo) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace(" ", "+"))  # a "+" left unencoded in a query reads as " "
    except ValueError:
        raise Open311Error(400, f"{name}: not a W3C date-time like 2026-11-01T00:00:00+07:00") from None
    # A date alone, or a time without an offset, is read in the hotline's time zone.
    value = value if value.tzinfo is not None else value.replace(tzinfo=zone)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+07:00 is before the first representable instant
        raise Open311Error(400, f"{name}: out of range") from None


def _filter() -> open311.RequestFilter:
    ids = _list("service_request_id")
    if ids is not None:  # the specification: this overrides every other argument
        return open311.RequestFilter(codes=[c for c in (normalise_code(i) for i in ids) if c])
    zone = ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])
    f = open311.RequestFilter(service_codes=_list("service_code"), start=_date("start_date", zone),
                              end=_date("end_date", zone), statuses=_list("status"))
    problems = [f"status: '{s[:20]}' is not open or closed" for s in f.statuses or [] if s not in ("open", "closed")]
    known = set(db.session.scalars(select(Category.code)))
    problems += [f"service_code not found: {c[:40]}" for c in f.service_codes or [] if c not in known]
    if f.start and f.end and f.start > f.end:
        problems.append("start_date is after end_date")
    if problems:
        raise Open311Error(400, *problems)
    return f


def _requests_response(tickets: list[Ticket], key: ApiKey | None, fmt: str) -> Response:
    detailed = key is not None and key.has_scope("read")
    places = open311.places(db.session)
    response = render([request_out(t, places, detailed) for t in tickets], fmt, "service_requests")
    db.session.commit()  # the key's last use, if it moved
    return response


@bp.get(f"/requests.{FORMAT}")
def list_requests(fmt: str):
    _check_jurisdiction()
    key = _key(None)
    return _requests_response(open311.find_requests(db.session, _filter(), utcnow()), key, fmt)


@bp.get(f"/requests/<request_id>.{FORMAT}")
def get_request(request_id: str, fmt: str):
    _check_jurisdiction()
    key = _key(None)
    code = normalise_code(request_id)
    ticket = open311.find_request(db.session, code) if code else None
    if ticket is None:
        raise Open311Error(404, f"service_request_id not found: {request_id[:40]}")
    return _requests_response([ticket], key, fmt)


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str):
    raise Open311Error(404, f"No such GeoReport v2 method: {request.method} /{rest[:80]}")
