"""Gunicorn settings, read automatically when gunicorn starts in the project root.

Sized for a small server (2 cores): Python is CPU-bound per request and the GIL lets one thread
of a process run at a time, so more processes beat more threads. A few threads per process
cover the time a request waits on PostgreSQL (and the receipt-counter lock); many threads per
process only make each one wait longer for the GIL, which lengthens the time a payment holds
its locks. Database connections are reused across requests (DB_CONN_MAX_AGE, default 60 s).
Override with GUNICORN_WORKERS / GUNICORN_THREADS."""

import multiprocessing
import os

worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS") or multiprocessing.cpu_count() + 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
keepalive = 5  # cashier terminals and the portal keep their connection open between requests
backlog = 2048
max_requests = 5000  # recycle a worker now and then (bounded memory), staggered by the jitter
max_requests_jitter = 500
