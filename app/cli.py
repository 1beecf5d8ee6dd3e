"""Operator commands (CONTRACT.md): init, seed-demo, users create, apikeys."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.database import db
from tickets.errors import ValidationFailed

DATA = Path(__file__).resolve().parent.parent / "data"
DIRECTORY = DATA / "directory"
SLA_POLICIES = DATA / "sla" / "policies.csv"
SLA_ESCALATION = DATA / "sla" / "escalation.csv"


def init_app(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(users)
    app.cli.add_command(worker_command)
    app.cli.add_command(simulate_call_command)
    app.cli.add_command(simulate_desk_command)
    app.cli.add_command(routing_group)
    app.cli.add_command(apikeys_group)
    app.cli.add_command(retention_group)


@click.command("init")
@with_appcontext
@click.option("--directory", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=DIRECTORY, show_default=True, help="Folder with the directory CSV files.")
@click.option("--overwrite-admin-edits", is_flag=True,
              help="Load every file even where an administrator changed those records in /admin.")
def init_command(directory: Path, overwrite_admin_edits: bool) -> None:
    """Create or migrate the schema and load or update the directory.

    Records changed in /admin are the province's current truth: their files are skipped
    (and named) unless --overwrite-admin-edits says otherwise, so a deploy that re-runs
    `init` never undoes an administrator's work.
    """
    from app.router import forget_snapshot
    from tickets.audit import edited_entities
    from tickets.canned import load_canned_responses
    from tickets.directory_import import load_directory
    from tickets.escalation import load_rules as load_escalation_rules
    from tickets.hospital_alerts import load_hospital_desks
    from tickets.routing_store import load_routing_rules
    from tickets.schema import migrate
    from tickets.sla_policies import load_policies

    migrate(current_app.config["DATABASE_URL"])
    edited = set() if overwrite_admin_edits else edited_entities(db.session)
    kept = []
    counts = {}
    if edited & {"contact_point", "hospital", "category"}:
        kept.append("directory (contact points, hospitals, categories, wards)")
    else:
        counts = load_directory(db.session, directory)
    if "routing_rule" in edited:
        kept.append("routing rules")
    else:
        counts["routing rules"] = load_routing_rules(db.session, directory / "routing_rules.csv")
    if "sla_policy" in edited:
        kept.append("SLA policies")
    else:
        counts["SLA policies"] = load_policies(db.session, SLA_POLICIES)
    counts["SLA escalation steps"] = load_escalation_rules(db.session, SLA_ESCALATION)
    if "hospital" in edited:  # desk numbers are hospital fields an administrator may have set
        kept.append("hospital desk numbers")
    else:
        try:
            counts["hospital desks with a number"] = load_hospital_desks(db.session,
                                                                         directory / "hospital_desks.csv")
        except ValueError as exc:  # a bad row: nothing of this run is kept, and the row is named
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
    canned = directory / "canned_responses.csv"  # optional: a province may start without any
    counts["canned responses"] = load_canned_responses(db.session, canned) if canned.exists() else 0
    db.session.commit()
    forget_snapshot()
    click.echo("Schema up to date. Directory: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    if kept:
        click.echo("Kept as edited in /admin (files not loaded; --overwrite-admin-edits loads them): "
                   + "; ".join(kept))


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Demo accounts and a few sample tickets (idempotent)."""
    from app.demo import DEMO_PASSWORD, seed_demo

    config = current_app.config
    # Simulator desk numbers only where no call can really be dialled (demo mode, no account).
    accounts = seed_demo(db.session, desk_numbers=config["HOTLINE_DEMO"] and not config["TWILIO_AUTH_TOKEN"])
    db.session.commit()
    click.echo(f"Demo accounts (password: {DEMO_PASSWORD}):")
    for username, role, where in accounts:
        click.echo(f"  {username:<12} {role:<11} {where or ''}")


@click.group("users")
def users() -> None:
    """Manage accounts."""


@users.command("create")
@with_appcontext
@click.argument("name")
@click.option("--role", required=True,
              type=click.Choice(["operator", "dispatcher", "staff", "hospital", "supervisor", "admin"]))
@click.option("--contact-point", "contact_point", help="Contact point code (staff).")
@click.option("--hospital", help="Hospital code (hospital users).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--display-name", "display_name", help="Name shown in history.")
@click.option("--lead/--no-lead", default=None, help="Lead of the contact point or hospital: told first when an "
              "SLA clock nears or passes its due time (staff and hospital users).")
@click.option("--phone", help="Mobile number for SLA escalation SMS (leads, supervisors); '' removes it.")
def create_user(name: str, role: str, contact_point: str | None, hospital: str | None,
                password: str, display_name: str | None, lead: bool | None, phone: str | None) -> None:
    """Create or update the account NAME."""
    from tickets.accounts import save_user

    try:
        user = save_user(db.session, name, role=role, password=password,
                         contact_point=contact_point, hospital=hospital,
                         display_name=display_name, lead=lead, phone=phone)
    except ValidationFailed as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        raise click.UsageError(f"{exc.message} ({details})") from exc
    db.session.commit()
    click.echo(f"Saved {user.username} ({user.role}).")


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Run what is queued, then exit.")
def worker_command(burst: bool) -> None:
    """An RQ worker with its scheduler and the periodic sweeps (needs REDIS_URL)."""
    if not current_app.config["REDIS_URL"]:
        raise click.UsageError("REDIS_URL is not set: without Redis, jobs run inside the web process")
    current_app.extensions["jobs"].work(burst=burst)


@click.command("simulate-call")
@with_appcontext
@click.option("--line", type=click.Choice(["1022", "115"]), default="1022", show_default=True)
@click.option("--from", "from_number", default="0912345678", show_default=True, help="Caller's number.")
@click.option("--digits", help="Menu key the caller presses (1022).")
@click.option("--hang-up/--stay", default=False, help="End the call afterwards (unanswered calls go "
              "to the call-back list).")
def simulate_call_command(line: str, from_number: str, digits: str | None, hang_up: bool) -> None:
    """Ring the running server with signed Twilio webhooks (demo mode or your own token)."""
    from app.telephony import auth_token
    from integrations.simulator import SimulatedCall, http_post, run_call
    from tickets.phones import normalise_phone

    token = auth_token(current_app)
    if token is None:
        raise click.UsageError("Set TWILIO_AUTH_TOKEN, or HOTLINE_DEMO=1 as `make run` does")
    config = current_app.config
    sim = SimulatedCall(base_url=config["PUBLIC_BASE_URL"], auth_token=token,
                        line_number=config[f"HOTLINE_NUMBER_{line}"], from_number=normalise_phone(from_number))
    for path, status in run_call(sim, http_post(sim), digits=digits, hang_up=hang_up):
        click.echo(f"{status} POST {path}")
    click.echo(f"CallSid {sim.sid}")


@click.command("simulate-desk")
@with_appcontext
@click.option("--alert", "alert_id", type=int, help="The desk call to answer (default: the latest placed).")
@click.option("--digits", default="1", show_default=True, help="The key the desk presses (1 acknowledges).")
def simulate_desk_command(alert_id: int | None, digits: str) -> None:
    """Answer a hospital desk's 115 call with signed Twilio webhooks: hear the case, press a key."""
    from app.telephony import auth_token
    from integrations.hospital_call import simulate_answer
    from integrations.simulator import SimulatedCall, http_post
    from tickets.hospital_alerts import last_placed_call

    token = auth_token(current_app)
    if token is None:
        raise click.UsageError("Set TWILIO_AUTH_TOKEN, or HOTLINE_DEMO=1 as `make run` does")
    alert = last_placed_call(db.session, alert_id)
    if alert is None:
        raise click.UsageError("No desk call is waiting: dispatch a 115 case with a location first")
    config = current_app.config
    sim = SimulatedCall(base_url=config["PUBLIC_BASE_URL"], auth_token=token, line_number=alert.to_number or "",
                        from_number=config["HOTLINE_NUMBER_115"],
                        **({"sid": alert.provider_sid} if alert.provider_sid else {}))
    for path, status, spoken in simulate_answer(sim, http_post(sim), alert.id, digits):
        click.echo(f"{status} POST {path}" + (f"\n    « {spoken} »" if spoken else ""))


@click.group("routing")
def routing_group() -> None:
    """The routing engine."""


@routing_group.command("retrain")
@with_appcontext
def retrain_command() -> None:
    """Retrain the classifier on the corpus plus categories people confirmed on closed tickets."""
    import time

    from flask import current_app as app
    from sqlalchemy import select

    from routing import classifier as classifiers
    from routing.engine import forget_defaults
    from routing.train import train
    from tickets.models import Ticket

    rows = db.session.execute(select(Ticket.description, Ticket.category_code).where(
        Ticket.status == "closed", Ticket.category_confirmed, Ticket.category_code.is_not(None),
        Ticket.description != "", Ticket.anonymised_at.is_(None))).all()  # an erased text teaches nothing
    started = time.perf_counter()
    model = train(extra_rows=[(text, category) for text, category in rows])
    path = app.config.get("ROUTING_MODEL_PATH") or classifiers.DEFAULT_MODEL_PATH
    classifiers.save(model, path)
    forget_defaults()
    click.echo(f"Retrained on the corpus + {len(rows)} confirmed tickets in "
               f"{time.perf_counter() - started:.1f} s; saved to {path}")


@click.group("apikeys")
def apikeys_group() -> None:
    """API keys for outside clients (Open311)."""


# The command line is the server's own operator: recorded in the audit log under this name.
CLI_ACTOR_LABEL = "flask apikeys"


@apikeys_group.command("create")
@with_appcontext
@click.argument("name")
@click.option("--scopes", required=True, help="Comma-separated: open311 (create requests), read (see their "
              "details: description, address, coordinates).")
def apikeys_create_command(name: str, scopes: str) -> None:
    """Issue an API key named NAME and print it, this once."""
    from tickets.api_keys import create_key
    from tickets.db import utcnow
    from tickets.permissions import SystemActor

    try:
        key, plaintext, _events = create_key(db.session, SystemActor(CLI_ACTOR_LABEL), utcnow(), name=name,
                                             scopes=scopes)
    except ValidationFailed as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        raise click.UsageError(f"{exc.message} ({details})") from exc
    db.session.commit()
    click.echo(f"API key {key.name} ({', '.join(key.scope_list)}):")
    click.echo(f"  {plaintext}")
    click.echo("Copy it now: it is stored only as a hash and will not be shown again.")


@apikeys_group.command("list")
@with_appcontext
def apikeys_list_command() -> None:
    """Every API key: name, prefix, scopes, created, last used, revoked."""
    from app.timefmt import local
    from tickets.api_keys import list_keys

    def when(dt) -> str:
        return local(dt).strftime("%Y-%m-%d %H:%M") if dt else "-"

    keys = list_keys(db.session)
    if not keys:
        click.echo("No API keys.")
        return
    click.echo(f"{'name':<24} {'prefix':<9} {'scopes':<13} {'created':<17} {'last used':<17} revoked")
    for key in keys:
        click.echo(f"{key.name:<24} {key.key_prefix:<9} {','.join(key.scope_list):<13} {when(key.created_at):<17} "
                   f"{when(key.last_used_at):<17} {when(key.revoked_at)}")


@apikeys_group.command("revoke")
@with_appcontext
@click.argument("name")
def apikeys_revoke_command(name: str) -> None:
    """Revoke the API key NAME: it stops working at once."""
    from tickets.api_keys import withdraw_key
    from tickets.db import utcnow
    from tickets.errors import NotFound
    from tickets.permissions import SystemActor

    try:
        key, events = withdraw_key(db.session, SystemActor(CLI_ACTOR_LABEL), utcnow(), name)
    except NotFound as exc:
        raise click.UsageError(f"No API key is named {name!r}") from exc
    db.session.commit()
    click.echo(f"Revoked {key.name}." if events else f"{key.name} was already revoked.")


@click.group("retention")
def retention_group() -> None:
    """Personal-data retention (RETENTION_MONTHS)."""


@retention_group.command("run")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="Only count what would be anonymised; change nothing.")
@click.option("--months", type=click.IntRange(min=0), help="Finished for this many months (default: "
              "RETENTION_MONTHS; 0 anonymises nothing).")
def retention_run_command(dry_run: bool, months: int | None) -> None:
    """Anonymise the tickets finished for the retention period (what the daily job does, in
    one go), then delete their voicemail recordings at Twilio."""
    from app.tasks.retention import BATCH, delete_recordings, recording_deleter, retention_period
    from integrations.twilio_rest import DeleteFailed
    from tickets import retention
    from tickets.db import utcnow

    now = utcnow()
    older_than = retention_period(now, months)
    if older_than is None:
        click.echo("Retention is off (0 months): nothing anonymised.")
        return
    cutoff = f"finished and unchanged since {(now - older_than).date().isoformat()}"
    if dry_run:
        counted = retention.count_finished(db.session, now, older_than)
        pending = len(retention.recordings_to_delete(db.session, None))
        db.session.rollback()
        click.echo(f"Dry run, nothing changed. Would anonymise {counted.tickets} tickets ({cutoff}), "
                   f"{counted.calls} calls, {counted.messages} SMS; {pending} recordings already waiting "
                   "for deletion at Twilio.")
        return
    done = retention.anonymise_finished(db.session, now, older_than, BATCH)
    click.echo(f"Anonymised {done.tickets} tickets ({cutoff}), {done.calls} calls, {done.messages} SMS.")
    if recording_deleter().demo:
        click.echo("No Twilio account set: recordings at Twilio not deleted (kept for when one is).")
        return
    try:
        click.echo(f"Deleted {delete_recordings(None)} recordings at Twilio.")
    except DeleteFailed as exc:
        raise click.ClickException(str(exc)) from exc
