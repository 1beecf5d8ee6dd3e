"""Production server settings: `gunicorn -c gunicorn.conf.py wsgi:app`.

One worker process with many threads: Flask-SocketIO needs sticky sessions, which
gunicorn's own balancing cannot give, so scale out with more single-worker instances
behind a sticky load balancer, all sharing REDIS_URL (see the README).
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = 1
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "100"))
timeout = 30
accesslog = "-"
