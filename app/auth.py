"""Who is asking: session login for the consoles, bearer tokens for API clients."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.database import db
from app.extensions import login_manager
from tickets.accounts import User, authenticate, user_for_token
from tickets.db import utcnow

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    app.register_blueprint(bp)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


@login_manager.request_loader
def _load_user_from_bearer(req) -> User | None:
    # Checked only when there is no session user; a token never creates a session.
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return user_for_token(db.session, token.strip(), utcnow())


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: an open redirect would help phishing."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None  # browsers read "/\\evil.example" as "//evil.example"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session, form.username.data.strip(), form.password.data)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("views.home"))
        flash(_l("Wrong username or password."), "error")
    status = 401 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


@bp.errorhandler(RateLimitExceeded)
def _too_many_failures(_exc: RateLimitExceeded):
    """Too many wrong passwords (app/rate_limits.py): the page again, saying when to retry."""
    from app.rate_limits import wait_text

    flash(wait_text(), "error")
    return render_template("login.html", form=LoginForm()), 429


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


def current_actor() -> User | None:
    """The signed-in user (session or bearer token), or None."""
    return current_user if current_user.is_authenticated else None
