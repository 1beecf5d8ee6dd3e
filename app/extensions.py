"""Flask extensions, created unbound here and bound to the app in ``create_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# Threading mode, chosen explicitly: the maintainer's advice, and an installed eventlet
# must never be picked up by accident (see shared notes on Flask-SocketIO).
socketio = SocketIO(async_mode="threading")
