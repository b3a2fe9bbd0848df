"""The top of the house: the one app that knows every other. It owns no table; it loads the
cross-app subscriptions (gasworks/subscriptions.py) once at start-up and seeds the demo's history
(bills, payments, late fees) after every domain app has seeded its own data."""
