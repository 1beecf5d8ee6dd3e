"""Entry point: `flask --app wsgi …`, `gunicorn wsgi:app`, or `python wsgi.py`."""

from app import create_app
from app.extensions import socketio

app = create_app()

if __name__ == "__main__":
    if not app.config["REDIS_URL"]:
        app.extensions["jobs"].start_background()  # embedded mode: jobs run in this process
    if app.config["SECRET_KEY_IS_EPHEMERAL"]:
        app.logger.warning("SECRET_KEY is not set: sessions end when the server restarts")
    socketio.run(app, host=app.config["HOST"], port=app.config["PORT"], allow_unsafe_werkzeug=True)
