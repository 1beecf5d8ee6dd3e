"""Operations endpoints: liveness, readiness, metrics."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app
from sqlalchemy import text

from app import metrics as prometheus
from app.database import db

bp = Blueprint("ops", __name__)


def init_app(app: Flask) -> None:
    """Serve /healthz, /readyz and /metrics, and count the app's requests for /metrics."""
    app.register_blueprint(bp)
    prometheus.init_app(app)


@bp.get("/healthz")
def healthz():
    """The process is up (no dependency checked: a slow database must not kill it)."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """The database and, where configured, Redis answer."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't raise: this is what the probe asks
        checks["database"] = f"error: {type(exc).__name__}"
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        import redis

        try:
            redis.Redis.from_url(redis_url, socket_timeout=1).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503


@bp.get("/metrics")
def metrics():
    """Prometheus text format for the operations centre (README, "Metrics")."""
    return prometheus.scrape()
