"""Ticket endpoints: parse, call the service, commit and publish, respond."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint
from pydantic import BaseModel, Field, RootModel
from sqlalchemy import select

from app.api.endpoint import endpoint
from app.api.schemas import (
    AskBody,
    AssignBody,
    CancelBody,
    CommentBody,
    EventOut,
    LinkBody,
    ReasonBody,
    ResolveBody,
    TicketCreate,
    TicketDetail,
    TicketOut,
    TicketPage,
    TicketQuery,
    TicketUpdate,
    TransferBody,
    Versioned,
)
from app.api.serialize import event_out, ticket_detail, ticket_out
from app.database import db
from app.publisher import commit_and_publish
from app.timefmt import local
from tickets import services
from tickets.calls import Call
from tickets.db import utcnow
from tickets.errors import Conflict
from tickets.events import LateAcknowledgement
from tickets.messages import OutboundMessage
from tickets.models import Ticket
from tickets.phones import normalise_phone
from tickets.queries import TicketFilter, list_tickets

bp = Blueprint("api_tickets", __name__, url_prefix="/api/tickets")


class EventList(RootModel[list[EventOut]]):
    pass


@endpoint(bp, "", "POST", summary="Open a ticket from any channel", tag="tickets",
          body=TicketCreate, response=TicketOut, status=201)
def create_ticket(actor, body: TicketCreate):
    ticket, events = services.open_ticket(
        db.session, actor, services.NewTicket(**body.model_dump()), utcnow())
    commit_and_publish(db.session, events)
    return ticket_out(ticket, actor)


@endpoint(bp, "", "GET", summary="List and filter the tickets you may read", tag="tickets",
          query=TicketQuery, response=TicketPage)
def list_ticket_page(actor, query: TicketQuery):
    filters = query.model_dump(exclude={"page", "per_page"})
    if filters["phone"]:
        filters["phone"] = normalise_phone(filters["phone"], field="phone")
    items, total = list_tickets(db.session, actor, TicketFilter(**filters), utcnow(),
                                page=query.page, per_page=query.per_page)
    return TicketPage(items=[ticket_out(t, actor) for t in items], total=total,
                      page=query.page, per_page=query.per_page)


@endpoint(bp, "/<int:ticket_id>", "GET", summary="One ticket with its history", tag="tickets",
          response=TicketDetail)
def get_ticket(actor, ticket_id: int):
    ticket = services.get_ticket(db.session, actor, ticket_id)
    return ticket_detail(ticket, services.ticket_events(db.session, ticket), actor)


@endpoint(bp, "/<int:ticket_id>/events", "GET", summary="The append-only history",
          tag="tickets", response=EventList)
def get_ticket_events(actor, ticket_id: int):
    ticket = services.get_ticket(db.session, actor, ticket_id)
    return EventList([event_out(e) for e in services.ticket_events(db.session, ticket)])


class MessageOut(BaseModel):
    id: int
    kind: str = Field(description="tracking, answer, survey or reply")
    to: str
    body: str
    status: str = Field(description="queued, sending, sent, delivered, undelivered, failed, unknown…")
    attempts: int
    error: str | None
    created_at: datetime
    sent_at: datetime | None
    status_at: datetime | None


class MessageList(BaseModel):
    items: list[MessageOut]


@endpoint(bp, "/<int:ticket_id>/messages", "GET", summary="SMS sent to the caller about this ticket, "
          "with their delivery status", tag="tickets", response=MessageList)
def get_ticket_messages(actor, ticket_id: int):
    ticket = services.get_ticket(db.session, actor, ticket_id)
    rows = db.session.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == ticket.id)
                              .order_by(OutboundMessage.id))
    return MessageList(items=[
        MessageOut(id=m.id, kind=m.kind, to=m.to_number, body=m.body, status=m.status, attempts=m.attempts,
                   error=m.last_error, created_at=local(m.created_at), sent_at=local(m.sent_at),
                   status_at=local(m.status_at))
        for m in rows])


class CallRecordOut(BaseModel):
    sid: str
    line: str
    status: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int | None = Field(description="seconds")
    queue_time: int | None = Field(description="seconds the caller waited for a person")
    voicemail: bool
    recording_url: str | None
    recording_duration: int | None
    callback_needed: bool
    callback_done_at: datetime | None


class CallRecordList(BaseModel):
    items: list[CallRecordOut]


@endpoint(bp, "/<int:ticket_id>/calls", "GET", summary="The ticket's phone calls, with the voicemail "
          "recording if one was left", tag="tickets", response=CallRecordList)
def get_ticket_calls(actor, ticket_id: int):
    ticket = services.get_ticket(db.session, actor, ticket_id)
    rows = db.session.scalars(select(Call).where(Call.ticket_id == ticket.id).order_by(Call.id)).unique()
    return CallRecordList(items=[
        CallRecordOut(sid=c.sid, line=c.line, status=c.status, started_at=local(c.started_at),
                      answered_at=local(c.answered_at), ended_at=local(c.ended_at), duration=c.duration,
                      queue_time=c.queue_time, voicemail=c.voicemail, recording_url=c.recording_url,
                      recording_duration=c.recording_duration, callback_needed=c.callback_needed,
                      callback_done_at=local(c.callback_done_at))
        for c in rows])


@endpoint(bp, "/<int:ticket_id>", "PATCH", summary="Complete or correct the ticket's details",
          tag="tickets", body=TicketUpdate, response=TicketOut)
def update_ticket(actor, ticket_id: int, body: TicketUpdate):
    changes = body.model_dump(exclude_unset=True)
    version = changes.pop("version", None)
    events = services.update_ticket(db.session, actor, ticket_id, utcnow(), changes=changes,
                                    expected_version=version)
    commit_and_publish(db.session, events)
    return ticket_out(db.session.get(Ticket, ticket_id), actor)


# action -> (service, body schema, summary). Every action endpoint works the same way, so
# they are declared as data: the body's fields become the service's keyword arguments.
ACTIONS: dict[str, tuple[Callable, type[BaseModel], str]] = {
    "assign": (services.assign_ticket, AssignBody,
               "(Re)route by hand: a contact point (1022) or a hospital (115)"),
    "accept": (services.accept_ticket, Versioned,
               "The department takes it; for 115 the hospital acknowledges"),
    "comment": (services.comment_ticket, CommentBody,
                "A note; internal=false is meant for the caller"),
    "transfer": (services.transfer_ticket, TransferBody,
                 "Hand a ticket that is not yours to another contact point"),
    "resolve": (services.resolve_ticket, ResolveBody, "Answer the ticket"),
    "reopen": (services.reopen_ticket, ReasonBody, "Reopen a resolved or closed ticket"),
    "close": (services.close_ticket, Versioned, "Close a resolved ticket"),
    "cancel": (services.cancel_ticket, CancelBody,
               "Cancel a new or assigned ticket, saying why (reason_code: nuisance, duplicate, wrong_number, other)"),
    "ask_caller": (services.ask_caller, AskBody,
                   "Ask the caller for information (sent by SMS); the SLA clocks pause"),
    "resume": (services.resume_ticket, ReasonBody, "Stop waiting for the caller; the clocks run again"),
    "link": (services.link_duplicate, LinkBody,
             "Fold a duplicate into the open ticket it repeats; its caller becomes a follower there"),
}


def _action_view(name: str, service: Callable) -> Callable:
    def view(actor, ticket_id: int, body: BaseModel) -> TicketOut:
        kwargs = body.model_dump()
        if "version" in kwargs:
            kwargs["expected_version"] = kwargs.pop("version")
        events = service(db.session, actor, ticket_id, utcnow(), **kwargs)
        commit_and_publish(db.session, events)
        late = next((e for e in events if isinstance(e, LateAcknowledgement)), None)
        if late is not None:
            raise Conflict(f"Ca này đã được điều phối sang bệnh viện khác ({late.current_hospital}); "
                           "xác nhận muộn đã được ghi lại",
                           {"hospital": late.current_hospital or ""})
        # After a transfer the actor may no longer read the ticket; the answer then
        # shows the new state with no actions left for them.
        return ticket_out(db.session.get(Ticket, ticket_id), actor)

    view.__name__ = f"{name}_ticket"
    return view


for _name, (_service, _schema, _summary) in ACTIONS.items():
    endpoint(bp, f"/<int:ticket_id>/{_name.replace('_', '-')}", "POST", summary=_summary, tag="tickets",
             body=_schema, response=TicketOut,
             body_optional=_schema is Versioned)(_action_view(_name, _service))
