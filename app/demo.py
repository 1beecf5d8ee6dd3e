"""Demo accounts and sample tickets, so `make run` shows a working product at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tickets import services
from tickets.accounts import save_user
from tickets.db import utcnow
from tickets.directory import Hospital
from tickets.models import Ticket
from tickets.permissions import SystemActor

DEMO_PASSWORD = "hotline-demo"  # noqa: S105 - demo only: printed by `make run`, documented in the README

# username, role, contact point or hospital, display name
DEMO_ACCOUNTS = [
    ("operator", "operator", None, "Nguyễn Thị Lan (tổng đài viên)"),
    ("dispatcher", "dispatcher", None, "Trần Văn Hùng (điều phối 115)"),
    ("tnmt", "staff", "SO_TNMT", "Lê Minh Tâm (Sở TN&MT)"),
    ("xaydung", "staff", "SO_XAYDUNG", "Phạm Thu Hà (Sở Xây dựng)"),
    ("bvdktinh", "hospital", "BVDK_TINH", "Cấp cứu BVĐK tỉnh"),
    ("supervisor", "supervisor", None, "Võ Thanh Bình (giám sát)"),
    ("admin", "admin", None, "Quản trị hệ thống"),
]

SAMPLE_TICKETS = [
    dict(line="1022", channel="phone", caller_phone="0912345678", caller_name="Nguyễn Văn An",
         category="moi_truong", ward_code="25741",
         description="Nhà máy gần khu dân cư xả nước thải ra suối, bốc mùi hôi thối cả tuần nay."),
    dict(line="1022", channel="phone", caller_phone="0987654321", caller_name="Trần Thị Bích",
         category="do_thi", address="Đường Yersin, Phường Phú Cường",
         description="Đèn đường không sáng đoạn trước trường học, buổi tối rất tối và nguy hiểm."),
    dict(line="1022", channel="sms", caller_phone="+84 903 111 222",
         description="Rác tồn đọng ở điểm tập kết đầu hẻm 45 ba ngày chưa thu gom."),
    dict(line="115", channel="phone", caller_phone="0977000111", ward_code="25747",
         lat=10.9813, lon=106.6512,
         description="Tai nạn giao thông, một người bị thương ở chân, còn tỉnh."),
]


def give_desks_simulator_numbers(session: Session) -> int:
    """Desk numbers for every hospital that has none, so a demo dispatch shows the desk call
    and SMS (placed by the demo caller, which only logs them: no account, nothing is dialled)."""
    given = 0
    for i, hospital in enumerate(session.scalars(select(Hospital).order_by(Hospital.code)), start=1):
        if hospital.desk_phone is None:
            hospital.desk_phone, hospital.sms_phone = f"+84274300{i:04d}", f"+8490000{i:04d}"
            given += 1
    session.flush()
    return given


def seed_demo(session: Session, desk_numbers: bool = False) -> list[tuple[str, str, str | None]]:
    """Create or refresh the demo accounts; add the sample tickets once. ``desk_numbers``:
    give hospitals without one a simulator desk number (only where calls are simulated)."""
    if desk_numbers:
        give_desks_simulator_numbers(session)
    created = []
    for username, role, where, display_name in DEMO_ACCOUNTS:
        save_user(session, username, role=role, password=DEMO_PASSWORD,
                  contact_point=where if role == "staff" else None,
                  hospital=where if role == "hospital" else None, display_name=display_name)
        created.append((username, role, where))
    session.flush()
    if not session.scalar(select(func.count()).select_from(Ticket)):
        from app.publisher import commit_and_publish

        system = SystemActor("demo")
        start = utcnow() - timedelta(hours=3)
        for i, fields in enumerate(SAMPLE_TICKETS):
            # The same road as any channel: routed, SLA clocks started, SMS queued.
            # The emergency is happening now: its 60-second acknowledgement clock is live.
            when = utcnow() if fields["line"] == "115" else start + timedelta(minutes=40 * i)
            _, events = services.open_ticket(session, system, services.NewTicket(**fields), when)
            commit_and_publish(session, events)
    return created
