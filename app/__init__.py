"""The web layer: the application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment, overridden by ``test_config``."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(config.from_environment())
    if test_config:
        app.config.update(test_config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from app import (  # noqa: F401 (sockets registers handlers)
        api,
        auth,
        cli,
        consoles,
        i18n,
        labels,
        open311,
        ops,
        rate_limits,
        security_headers,
        sockets,
        supervisor,
        telephony,
        views,
    )
    from app.database import db
    from app.extensions import csrf, socketio
    from app.jobs import Jobs

    db.init_app(app)
    security_headers.init_app(app)  # CSP, no framing, referrers kept in the site
    csrf.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)
    auth.init_app(app)
    api.init_app(app)
    telephony.init_app(app)
    from app import hospital_alerts  # the desk calls' webhooks (/twilio/dispatch/...)

    hospital_alerts.init_app(app)
    ops.init_app(app)  # /healthz, /readyz, /metrics and the request counters
    open311.init_app(app)  # Open311 GeoReport v2 at /open311/v2
    app.register_blueprint(views.bp)
    app.register_blueprint(supervisor.bp)
    consoles.init_app(app)
    cli.init_app(app)
    rate_limits.init_app(app)  # after every blueprint: it wraps their endpoints
    Jobs(app)
    if hops := app.config["TRUSTED_PROXY_HOPS"]:
        # The client's address (rate limits, logs) and scheme as the proxy saw them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    # Same-origin only (the default): consoles are served by this app.
    # The SocketIO object is shared by every app built in this process (tests build many):
    # forget the previous app's Redis client manager, or it would outlive its app.
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(app, message_queue=app.config["REDIS_URL"], channel=app.config["SOCKETIO_CHANNEL"])
    return app
