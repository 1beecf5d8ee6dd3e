"""The directory, read-only for API clients (admins edit it through `init` for now)."""

from __future__ import annotations

from flask import Blueprint, Response, request
from pydantic import BaseModel, RootModel
from sqlalchemy import select

from app import router
from app.api.endpoint import endpoint
from app.api.schemas import CategoryOut, Code, ContactPointOut, HospitalOut, Query, WardOut
from app.database import db
from tickets.canned import list_canned_responses
from tickets.directory import Category, ContactPoint, District, Hospital, Ward
from tickets.errors import ValidationFailed

bp = Blueprint("api_directory", __name__, url_prefix="/api/directory")


class ContactPointList(RootModel[list[ContactPointOut]]):
    pass


class HospitalList(RootModel[list[HospitalOut]]):
    pass


class CategoryList(RootModel[list[CategoryOut]]):
    pass


class WardList(RootModel[list[WardOut]]):
    pass


@endpoint(bp, "/contact-points", summary="Contact points (1022 destinations)", tag="directory",
          response=ContactPointList)
def contact_points(actor):
    rows = db.session.scalars(select(ContactPoint).where(ContactPoint.active).order_by(ContactPoint.code))
    return ContactPointList([
        ContactPointOut(code=c.code, name_vi=c.name_vi, name_en=c.name_en, kind=c.kind,
                        district_code=c.district_code, categories=c.category_codes)
        for c in rows
    ])


@endpoint(bp, "/hospitals", summary="Hospitals (115 destinations)", tag="directory",
          response=HospitalList)
def hospitals(actor):
    rows = db.session.scalars(select(Hospital).where(Hospital.active).order_by(Hospital.code))
    return HospitalList([
        HospitalOut(code=h.code, name=h.name, kind=h.kind, district_code=h.district_code,
                    ward_code=h.ward_code, address=h.address, lat=h.lat, lon=h.lon,
                    emergency=h.emergency, available=h.available, specialties=h.specialties)
        for h in rows
    ])


@endpoint(bp, "/categories", summary="Request categories", tag="directory",
          response=CategoryList)
def categories(actor):
    rows = db.session.scalars(select(Category).order_by(Category.code))
    return CategoryList([
        CategoryOut(code=c.code, name_vi=c.name_vi, name_en=c.name_en,
                    default_contact_point=c.default_contact_point_code,
                    district_level=c.district_level)
        for c in rows
    ])


@endpoint(bp, "/wards", summary="Wards with their district", tag="directory",
          response=WardList)
def wards(actor):
    rows = db.session.execute(
        select(Ward, District.name).join(District, Ward.district_code == District.code)
        .order_by(Ward.code))
    return WardList([
        WardOut(code=w.code, name=w.name, kind=w.kind, district_code=w.district_code,
                district_name=district_name, lat=w.lat, lon=w.lon)
        for w, district_name in rows
    ])


@endpoint(bp, "/districts", summary="District boundaries (GeoJSON FeatureCollection) for maps",
          tag="directory")
def districts(actor):
    # The directory's own file, the one routing locates callers with: never a copy that drifts.
    response = Response(router.GEOJSON.read_bytes(), mimetype="application/geo+json")
    response.cache_control.private = True
    response.cache_control.max_age = 3600
    response.add_etag()
    return response.make_conditional(request)


class CannedQuery(Query):
    category: Code | None = None


class CannedResponseOut(BaseModel):
    id: int
    category: str
    title: str
    body: str


class CannedResponseList(BaseModel):
    items: list[CannedResponseOut]


@endpoint(bp, "/canned-responses", summary="Ready-made answers per category (placeholders: {code}, "
          "{contact_point})", tag="directory", query=CannedQuery, response=CannedResponseList)
def canned_responses(actor, query: CannedQuery):
    if query.category is not None and db.session.get(Category, query.category) is None:
        raise ValidationFailed("Unknown category", {"category": f"unknown code {query.category!r}"})
    return CannedResponseList(items=[
        CannedResponseOut(id=c.id, category=c.category_code, title=c.title, body=c.body)
        for c in list_canned_responses(db.session, query.category)
    ])
