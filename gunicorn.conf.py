"""Gunicorn settings, read automatically when gunicorn starts in the project root.

Sized for a small server (2 cores): Python is CPU-bound per request and the GIL lets one thread
of a process run at a time, so more processes beat more threads. A few threads per process
cover the time a request waits on PostgreSQL (and the receipt-counter lock); many threads per
process only make each one wait longer for the GIL, which lengthens the time a payment holds
its locks. Database connections are reused across requests (DB_CONN_MAX_AGE, default 60 s).
Override with GUNICORN_WORKERS / GUNICORN_THREADS / GUNICORN_WORKER_CONNECTIONS."""

import multiprocessing
import os

worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS") or multiprocessing.cpu_count() + 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
# A gthread worker accepts connections while it holds fewer than worker_connections (default 1000)
# and queues them for its own threads, so under a burst one worker sits on a queue of them while
# another is idle, and the unlucky requests wait several service times: with 50 cashiers always
# in flight (bench_payments.py 50 40), p95 was 2.8 to 4.4 times p50. Taking only a couple more
# than it has threads leaves the rest in the kernel's accept queue, first come first served by
# whichever worker frees up first: p95 came down to about 1.4 times p50 (and 360-490 ms to
# 220-250 ms) at the same throughput. The two spare slots keep a couple of idle kept-alive
# connections per worker.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS") or threads + 2)
keepalive = 5  # cashier terminals and the portal keep their connection open between requests
backlog = 2048
max_requests = 5000  # recycle a worker now and then (bounded memory), staggered by the jitter
max_requests_jitter = 500
