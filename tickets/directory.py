"""The directory: where tickets can go (contact points, hospitals) and what they are about.

Rows are loaded from CSV files by ``tickets.directory_import``; a province replaces the
files, not this code.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tickets.db import Base, JSONType


class District(Base):
    """A district-level unit (huyện, thị xã, thành phố thuộc tỉnh)."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(50))
    centroid_lat: Mapped[float | None] = mapped_column(Float)
    centroid_lon: Mapped[float | None] = mapped_column(Float)


class Ward(Base):
    """A commune-level unit (phường, xã, thị trấn) with an approximate point."""

    __tablename__ = "wards"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(50))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)


class ContactPoint(Base):
    """A 1022 destination: a department, a district People's Committee, an agency."""

    __tablename__ = "contact_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30))
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"))
    category_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    aliases: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # How the hotline reaches the unit itself (kept in /admin, not in the CSV files).
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))


class Category(Base):
    """A subject area (lĩnh vực) of 1022 requests, with keywords for text matching."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    default_contact_point_code: Mapped[str | None] = mapped_column(
        ForeignKey("contact_points.code")
    )
    district_level: Mapped[bool] = mapped_column(Boolean, default=False)


class Hospital(Base):
    """A 115 destination: a hospital or medical centre with an emergency desk."""

    __tablename__ = "hospitals"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(60))
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"))
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("wards.code"))
    address: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    emergency: Mapped[bool] = mapped_column(Boolean, default=True)
    specialties: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Hospitals mark themselves full/diverting; the dispatcher then skips them.
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    # The emergency desk's phone, called (and sent an SMS) when a patient is dispatched.
    desk_phone: Mapped[str | None] = mapped_column(String(20))
    sms_phone: Mapped[str | None] = mapped_column(String(20))  # the desk's mobile, for SMS
    active: Mapped[bool] = mapped_column(Boolean, default=True)
