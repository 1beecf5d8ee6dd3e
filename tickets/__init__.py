"""The ticket domain: models, lifecycle, history, permissions and services.

Plain Python and SQLAlchemy only: nothing here imports Flask, Flask-SocketIO or RQ,
so the same code runs in a web request, an RQ worker or a test.
"""
