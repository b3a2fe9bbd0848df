"""Readings arrived: other apps listen without metering knowing them (billing charges prepaid
accounts as their readings arrive). Listeners run after the commit that stored the readings,
with the ids of the customers those readings bill."""

from collections.abc import Callable, Iterable

from django.db import transaction

ARRIVAL_LISTENERS: list[Callable[[list[int]], None]] = []


def announce(customer_ids: Iterable[int]) -> None:
    ids = sorted({cid for cid in customer_ids if cid is not None})
    if not ids or not ARRIVAL_LISTENERS:
        return

    def run():
        for listener in ARRIVAL_LISTENERS:
            listener(ids)

    transaction.on_commit(run)
