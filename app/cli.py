"""Operator commands (CONTRACT.md): init, seed-demo, users create."""

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


def init_app(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(users)
    app.cli.add_command(worker_command)
    app.cli.add_command(simulate_call_command)
    app.cli.add_command(routing_group)


@click.command("init")
@with_appcontext
@click.option("--directory", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=DIRECTORY, show_default=True, help="Folder with the directory CSV files.")
def init_command(directory: Path) -> None:
    """Create or migrate the schema and load or update the directory."""
    from app.router import forget_snapshot
    from tickets.directory_import import load_directory
    from tickets.routing_store import load_routing_rules
    from tickets.schema import migrate
    from tickets.sla_policies import load_policies

    migrate(current_app.config["DATABASE_URL"])
    counts = load_directory(db.session, directory)
    counts["routing rules"] = load_routing_rules(db.session, directory / "routing_rules.csv")
    counts["SLA policies"] = load_policies(db.session, SLA_POLICIES)
    db.session.commit()
    forget_snapshot()
    click.echo("Schema up to date. Directory: " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Demo accounts and a few sample tickets (idempotent)."""
    from app.demo import DEMO_PASSWORD, seed_demo

    accounts = seed_demo(db.session)
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
def create_user(name: str, role: str, contact_point: str | None, hospital: str | None,
                password: str, display_name: str | None) -> None:
    """Create or update the account NAME."""
    from tickets.accounts import save_user

    try:
        user = save_user(db.session, name, role=role, password=password,
                         contact_point=contact_point, hospital=hospital,
                         display_name=display_name)
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
        Ticket.description != "")).all()
    started = time.perf_counter()
    model = train(extra_rows=[(text, category) for text, category in rows])
    path = app.config.get("ROUTING_MODEL_PATH") or classifiers.DEFAULT_MODEL_PATH
    classifiers.save(model, path)
    forget_defaults()
    click.echo(f"Retrained on the corpus + {len(rows)} confirmed tickets in "
               f"{time.perf_counter() - started:.1f} s; saved to {path}")
