"""The REST API's shared machinery under /api/v1: token auth, the error envelope, idempotency keys,
pagination, permissions, and the foundation endpoints (users, customers). Each domain app keeps
its own API views in its api.py."""
