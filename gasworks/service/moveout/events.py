"""What service.moveout tells the other apps (subscribers in gasworks/subscriptions.py)."""

from dataclasses import dataclass

from gasworks.lib.events import Event


@dataclass(frozen=True)
class AccountMovedOut(Event):
    """An account moved out (new_customer_id None) or passed to a new holder: final reading,
    final bill, settlement and close (and open) committed together. Delivered on commit; the
    service desk completes the transfer or move-out request ``request_id`` through it."""

    customer_id: int
    new_customer_id: int | None
    request_id: int | None
    move_out_id: int
    final_bill_id: int | None
    settlement: str
