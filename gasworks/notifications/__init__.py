"""Notifications (通知): what concerns a customer, told by SMS, WeChat, mail and the portal, once
and reliably.

Domain events write outbox rows (`Message`) inside the transaction that caused them (an
in-transaction subscriber), one per channel the customer gets, under a unique key per event,
customer and channel: a rollback sends nothing, a commit loses nothing, a rerun (a billing run
continued) writes nothing twice. The sender (`sender.py`) delivers them after commit through one
small adapter per channel (`channels/`), retries with backoff, and marks a message failed after
N tries keeping the provider's words. A billing run's bill notices are written set-based in the
run's own transactions (`store.py`, by the same rules as `outbox.enqueue`). This app reads the domain apps (to word its messages) and
no domain app imports it."""
