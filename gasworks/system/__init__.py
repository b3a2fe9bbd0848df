"""Parameters (typed, cached settings people change), the audit log, and the API's idempotency
records."""
