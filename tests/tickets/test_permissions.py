"""The role table of CONTRACT.md: who reads which tickets and who may do what to them.

A ticket someone may not read is reported as missing (NotFound), never as forbidden, so its
existence leaks nothing; a readable ticket the role may not act on is Forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import NOW, PASSWORD, SYSTEM, make_ticket, make_user
from tickets.accounts import Role, User, save_user
from tickets.errors import Forbidden, NotFound
from tickets.models import Ticket
from tickets.permissions import authorize_create, can_read, may, readable_tickets
from tickets.services import (
    NewTicket,
    accept_ticket,
    assign_ticket,
    cancel_ticket,
    close_ticket,
    comment_ticket,
    get_ticket,
    open_ticket,
    reopen_ticket,
    resolve_ticket,
    transfer_ticket,
)

LATER = NOW + timedelta(minutes=10)

# The "acts" column of the role table (besides reading), written out from CONTRACT.md.
_OPERATOR = {"create", "assign", "comment", "cancel"}
_DISPATCHER = {"create", "assign", "comment", "cancel", "close"}
ACTS = {
    "operator": _OPERATOR,
    "dispatcher": _DISPATCHER,
    "staff": {"accept", "comment", "transfer", "resolve"},
    "hospital": {"accept", "comment", "resolve"},
    "supervisor": _OPERATOR | _DISPATCHER | {"reopen", "close"},
    "admin": {"create", "assign", "accept", "comment", "transfer", "resolve", "reopen", "close",
              "cancel"},
}
ALL_ACTIONS = sorted(ACTS["admin"])


def _assign(session, ticket, **destination):
    assign_ticket(session, SYSTEM, ticket.id, NOW, **destination)
    session.commit()
    return ticket


@dataclass
class World:
    """A small fixed set of accounts and tickets covering every row of the role table."""

    users: dict[str, User]
    tickets: dict[str, Ticket]

    # Which tickets each account reads, per the role table.
    def expected_readable(self, user_name: str) -> set[str]:
        all_1022 = {"1022_new", "1022_tnmt", "1022_xaydung", "1022_by_op1"}
        all_115 = {"115_new", "115_tinh", "115_qd4", "115_by_op1", "115_by_dispatcher"}
        return {
            "op1": all_1022 | {"115_by_op1"},  # a 115 call that landed on 1022 stays theirs
            "op2": all_1022,
            "dispatcher": all_115,
            "staff_tnmt": {"1022_tnmt"},
            "staff_xaydung": {"1022_xaydung"},
            "hospital_tinh": {"115_tinh"},
            "hospital_qd4": {"115_qd4"},
            "supervisor": all_1022 | all_115,
            "admin": all_1022 | all_115,
        }[user_name]


@pytest.fixture
def world(session) -> World:
    users = {
        "op1": make_user(session, "operator"),
        "op2": make_user(session, "operator"),
        "dispatcher": make_user(session, "dispatcher"),
        "staff_tnmt": make_user(session, "staff", contact_point="SO_TNMT"),
        "staff_xaydung": make_user(session, "staff", contact_point="SO_XAYDUNG"),
        "hospital_tinh": make_user(session, "hospital", hospital="BVDK_TINH"),
        "hospital_qd4": make_user(session, "hospital", hospital="BV_QD4"),
        "supervisor": make_user(session, "supervisor"),
        "admin": make_user(session, "admin"),
    }
    tickets = {
        "1022_new": make_ticket(session),
        "1022_tnmt": _assign(session, make_ticket(session), contact_point="SO_TNMT"),
        "1022_xaydung": _assign(session, make_ticket(session), contact_point="SO_XAYDUNG"),
        "1022_by_op1": make_ticket(session, actor=users["op1"]),
        "115_new": make_ticket(session, line="115"),
        "115_tinh": _assign(session, make_ticket(session, line="115"), hospital="BVDK_TINH"),
        "115_qd4": _assign(session, make_ticket(session, line="115"), hospital="BV_QD4"),
        "115_by_op1": make_ticket(session, actor=users["op1"], line="115"),
        "115_by_dispatcher": make_ticket(session, actor=users["dispatcher"], line="115"),
    }
    return World(users, tickets)


USER_NAMES = ["op1", "op2", "dispatcher", "staff_tnmt", "staff_xaydung", "hospital_tinh",
              "hospital_qd4", "supervisor", "admin"]


def _readable_by_sql(session, world: World, user: User) -> set[str]:
    ids = set(session.scalars(select(Ticket.id).where(readable_tickets(user))))
    return {name for name, t in world.tickets.items() if t.id in ids}


def _readable_by_python(world: World, user: User) -> set[str]:
    return {name for name, t in world.tickets.items() if can_read(user, t)}


# --- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize("user_name", USER_NAMES)
def test_each_account_reads_exactly_what_the_role_table_says(session, world, user_name):
    user = world.users[user_name]
    expected = world.expected_readable(user_name)
    assert _readable_by_python(world, user) == expected
    assert _readable_by_sql(session, world, user) == expected


def test_an_operator_reads_1022_but_not_115_unless_they_opened_it(session, world):
    op1, op2 = world.users["op1"], world.users["op2"]
    assert can_read(op1, world.tickets["1022_new"])
    assert not can_read(op1, world.tickets["115_new"])
    assert can_read(op1, world.tickets["115_by_op1"])
    assert not can_read(op2, world.tickets["115_by_op1"])


def test_a_dispatcher_reads_115_only(session, world):
    dispatcher = world.users["dispatcher"]
    assert all(can_read(dispatcher, t) == (t.line == "115") for t in world.tickets.values())


def test_staff_read_only_their_contact_points_tickets(session, world):
    staff = world.users["staff_tnmt"]
    assert can_read(staff, world.tickets["1022_tnmt"])
    assert not can_read(staff, world.tickets["1022_xaydung"])
    assert not can_read(staff, world.tickets["1022_new"])


def test_hospital_users_read_only_what_was_dispatched_to_their_hospital(session, world):
    hospital = world.users["hospital_tinh"]
    assert can_read(hospital, world.tickets["115_tinh"])
    assert not can_read(hospital, world.tickets["115_qd4"])
    assert not can_read(hospital, world.tickets["115_new"])


def test_the_sql_filter_and_can_read_agree_on_every_account_and_ticket(session, world):
    session.expire_all()
    tickets = {name: session.get(Ticket, t.id) for name, t in world.tickets.items()}
    disagreements = []
    for user_name, user in world.users.items():
        user = session.get(User, user.id)
        by_sql = set(session.scalars(select(Ticket.id).where(readable_tickets(user))))
        for ticket_name, ticket in tickets.items():
            if can_read(user, ticket) != (ticket.id in by_sql):
                disagreements.append((user_name, ticket_name))
    assert disagreements == []


def test_a_ticket_moved_elsewhere_is_no_longer_readable_by_its_old_department(session, world):
    staff = world.users["staff_tnmt"]
    ticket = world.tickets["1022_tnmt"]
    transfer_ticket(session, staff, ticket.id, LATER, contact_point="SO_XAYDUNG", reason="sai")
    session.commit()
    assert not can_read(staff, ticket)
    assert "1022_tnmt" not in _readable_by_sql(session, world, staff)
    assert can_read(world.users["staff_xaydung"], ticket)


def test_an_operator_moved_to_a_department_reads_only_that_departments_tickets(session):
    operator = make_user(session, "operator")
    ticket = make_ticket(session, actor=operator)  # a new 1022 ticket, at no department
    moved = save_user(session, operator.username, role="staff", contact_point="SO_TNMT",
                      password=PASSWORD)
    session.commit()
    in_list = ticket.id in set(session.scalars(select(Ticket.id).where(readable_tickets(moved))))
    assert (can_read(moved, ticket), in_list) == (False, False)


# --- not readable is not found -------------------------------------------------------------

def test_get_ticket_answers_not_found_for_every_ticket_the_account_may_not_read(session, world):
    for user_name in USER_NAMES:
        user = world.users[user_name]
        readable = world.expected_readable(user_name)
        for ticket_name, ticket in world.tickets.items():
            if ticket_name in readable:
                assert get_ticket(session, user, ticket.id).id == ticket.id
            else:
                with pytest.raises(NotFound):
                    get_ticket(session, user, ticket.id)


_EVERY_VERB = {
    "assign": lambda s, u, t: assign_ticket(s, u, t, LATER, contact_point="SO_XAYDUNG"),
    "accept": lambda s, u, t: accept_ticket(s, u, t, LATER),
    "comment": lambda s, u, t: comment_ticket(s, u, t, LATER, body="xem thử"),
    "transfer": lambda s, u, t: transfer_ticket(s, u, t, LATER, contact_point="SO_XAYDUNG",
                                                reason="x"),
    "resolve": lambda s, u, t: resolve_ticket(s, u, t, LATER, resolution="x"),
    "reopen": lambda s, u, t: reopen_ticket(s, u, t, LATER, reason="x"),
    "close": lambda s, u, t: close_ticket(s, u, t, LATER),
    "cancel": lambda s, u, t: cancel_ticket(s, u, t, LATER, reason="x"),
}


# Accounts paired with a ticket they may not read.
_STRANGERS = [
    ("staff_xaydung", "1022_tnmt"),  # another department's ticket
    ("hospital_qd4", "115_tinh"),  # another hospital's dispatch
    ("dispatcher", "1022_tnmt"),  # the other line
    ("op2", "115_tinh"),
    ("op2", "115_by_op1"),  # another operator's 115 ticket
]


@pytest.mark.parametrize("verb", list(_EVERY_VERB))
def test_every_verb_on_a_ticket_the_account_may_not_read_is_not_found_not_forbidden(
        session, world, verb):
    for user_name, ticket_name in _STRANGERS:
        ticket = world.tickets[ticket_name]
        with pytest.raises(NotFound):
            _EVERY_VERB[verb](session, world.users[user_name], ticket.id)


# --- acting --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(ACTS))
def test_each_role_may_do_exactly_what_the_role_table_says(role):
    user = User(username=f"someone-{role}", role=role)
    assert {action for action in ALL_ACTIONS if may(user, action)} == ACTS[role]


@pytest.mark.parametrize("verb", ["assign", "cancel"])
def test_staff_may_not_assign_or_cancel_their_departments_ticket(session, world, verb):
    ticket = world.tickets["1022_tnmt"]
    with pytest.raises(Forbidden):
        _EVERY_VERB[verb](session, world.users["staff_tnmt"], ticket.id)


@pytest.mark.parametrize("verb", ["resolve", "accept"])
def test_an_operator_may_not_accept_or_resolve(session, world, verb):
    ticket = world.tickets["1022_tnmt"]
    with pytest.raises(Forbidden):
        _EVERY_VERB[verb](session, world.users["op1"], ticket.id)


def test_a_hospital_may_not_transfer_a_dispatch(session, world):
    ticket = world.tickets["115_tinh"]
    with pytest.raises(Forbidden):
        transfer_ticket(session, world.users["hospital_tinh"], ticket.id, LATER,
                        contact_point="SO_TNMT", reason="không phải cấp cứu")


def test_an_operator_may_not_close(session, world):
    ticket = world.tickets["1022_tnmt"]
    resolve_ticket(session, SYSTEM, ticket.id, NOW, resolution="xong")
    session.commit()
    with pytest.raises(Forbidden):
        close_ticket(session, world.users["op1"], ticket.id, LATER)


# Each role paired with a resolved ticket it can read.
_REOPENERS = [("op1", "1022_tnmt"), ("dispatcher", "115_tinh"), ("staff_tnmt", "1022_tnmt"),
              ("hospital_tinh", "115_tinh"), ("supervisor", "1022_tnmt"),
              ("admin", "115_tinh")]


@pytest.mark.parametrize(("user_name", "ticket_name"), _REOPENERS)
def test_only_a_supervisor_or_an_admin_may_reopen(session, world, user_name, ticket_name):
    ticket = world.tickets[ticket_name]
    resolve_ticket(session, SYSTEM, ticket.id, NOW, resolution="xong")
    session.commit()
    user = world.users[user_name]
    if user.role in (Role.SUPERVISOR, Role.ADMIN):
        reopen_ticket(session, user, ticket.id, LATER, reason="chưa xong")
        session.commit()
        assert ticket.status == "assigned"
    else:
        with pytest.raises(Forbidden):
            reopen_ticket(session, user, ticket.id, LATER, reason="chưa xong")


def test_a_department_accepts_transfers_and_resolves_its_own_tickets(session, world):
    staff = world.users["staff_tnmt"]
    ticket = world.tickets["1022_tnmt"]
    accept_ticket(session, staff, ticket.id, LATER)
    comment_ticket(session, staff, ticket.id, LATER, body="đang xử lý")
    resolve_ticket(session, staff, ticket.id, LATER, resolution="đã xử lý")
    session.commit()
    assert ticket.status == "resolved"
    other = world.tickets["1022_xaydung"]
    transfer_ticket(session, world.users["staff_xaydung"], other.id, LATER,
                    contact_point="SO_TNMT", reason="thuộc Sở TNMT")
    session.commit()
    assert other.contact_point.code == "SO_TNMT"


def test_a_hospital_acknowledges_and_resolves_its_dispatch(session, world):
    hospital = world.users["hospital_tinh"]
    ticket = world.tickets["115_tinh"]
    accept_ticket(session, hospital, ticket.id, LATER)
    resolve_ticket(session, hospital, ticket.id, LATER, resolution="đã chuyển viện")
    session.commit()
    assert ticket.status == "resolved"


def test_a_dispatcher_dispatches_and_closes_115_tickets(session, world):
    dispatcher = world.users["dispatcher"]
    ticket = world.tickets["115_new"]
    assign_ticket(session, dispatcher, ticket.id, LATER, hospital="BV_QD4")
    resolve_ticket(session, SYSTEM, ticket.id, LATER, resolution="xong")
    close_ticket(session, dispatcher, ticket.id, LATER)
    session.commit()
    assert ticket.status == "closed"


# --- creating ------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "line", "allowed"), [
    ("operator", "1022", True),
    ("operator", "115", True),  # a 115 call that lands on the 1022 line
    ("dispatcher", "115", True),
    ("dispatcher", "1022", False),
    ("staff", "1022", False),
    ("staff", "115", False),
    ("hospital", "1022", False),
    ("hospital", "115", False),
    ("supervisor", "1022", True),
    ("supervisor", "115", True),
    ("admin", "1022", True),
    ("admin", "115", True),
])
def test_who_may_open_a_ticket_on_which_line(session, role, line, allowed):
    user = make_user(session, role)
    before = session.scalar(select(func.count()).select_from(Ticket))
    data = NewTicket(line=line, channel="phone", description="x")
    if allowed:
        authorize_create(user, line)
        open_ticket(session, user, data, NOW)
        session.commit()
        assert session.scalar(select(func.count()).select_from(Ticket)) == before + 1
    else:
        with pytest.raises(Forbidden):
            authorize_create(user, line)
        with pytest.raises(Forbidden):
            open_ticket(session, user, data, NOW)
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Ticket)) == before
