"""Pure helpers shared by every app, with no models: money rounding and the money field spec,
calendar helpers, consumption and tier arithmetic, check digits, QR codes, status transition
tables (status.py), domain events (events.py), and database helpers (db.py: one of the two
places raw SQL and vendor branches may live)."""
