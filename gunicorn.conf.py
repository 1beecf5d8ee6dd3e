"""Production server settings: `gunicorn -c gunicorn.conf.py wsgi:app`.

The default is one worker process with many threads, and it is what an instance that serves
the consoles must run: Flask-SocketIO needs sticky sessions (its long-polling fallback sends
one session's requests to the process that holds it), which gunicorn's own balancing among
workers cannot give; and each open WebSocket keeps a thread, hence the many threads. Scale
that tier out with more single-worker instances behind a sticky load balancer, all sharing
REDIS_URL.

A handler under the GIL uses one core per process, whatever the threads, and the Twilio
webhooks are CPU-bound. They hold no Socket.IO session (they emit through the Redis message
queue, like any process) and keep nothing in memory between requests (idempotency is in the
database), so they may be served by a separate pool with several workers:

    GUNICORN_WORKERS=2 GUNICORN_THREADS=16 gunicorn -c gunicorn.conf.py wsgi:app

behind a balancer that sends /twilio/ to that pool and everything else, /socket.io/ above all,
to the single-worker instances (README, "Production"). Never run GUNICORN_WORKERS > 1 where
/socket.io/ is served. A pool worker needs no more threads than its database connections
(SQLAlchemy's default pool: 5 + 10 overflow): extra threads only queue for a connection while
contending for the GIL.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("GUNICORN_WORKERS", "1"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "100"))
timeout = 30
accesslog = "-"
