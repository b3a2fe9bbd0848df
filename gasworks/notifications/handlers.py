"""Domain events → outbox rows. Each runs inside the publisher's transaction (subscribed with
in_transaction=True in gasworks/subscriptions.py): it reads what it needs to word the message
and writes rows, never failing on a customer's data. Bill notices are written per billing-run
chunk in one pass over the chunk's bills."""

from __future__ import annotations

import os

from django.utils import timezone

from gasworks.notifications import store
from gasworks.notifications.outbox import enqueue, queued


def _day(value) -> str:
    return value.isoformat() if value else ""


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _site() -> str:
    return os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")


def bills_issued(event) -> None:
    # A run's chunk of bills: set-based in SQL on PostgreSQL (the run's speed), else through
    # enqueue() (the same rules: outbox.rules()). A notice keeps only its bill's id: the bill's
    # figures are looked up when it is worded (LATE_VARIABLES), so a run writes small rows.
    if store.set_based():
        queued(store.write_bill_notices(event.bill_ids, timezone.now()))
        return
    enqueue(
        "bill_issued", ((f"bill:{pk}", customer_id, {"bill_id": pk}) for pk, customer_id in _bills_of(event))
    )


def _bills_of(event):
    from gasworks.billing.models import Bill

    return Bill.objects.filter(pk__any=event.bill_ids).values_list("pk", "customer_id")


def payment_received(event) -> None:
    # The receipt number is given after this runs (last in the payment's transaction): it is
    # looked up when the message is worded (LATE_VARIABLES).
    enqueue(
        "payment_received",
        [
            (
                f"payment:{event.payment_id}",
                event.customer_id,
                {"amount": event.amount, "paid_at": _when(event.paid_at), "payment_id": event.payment_id},
            )
        ],
    )


def _ids(variables_list: list[dict], name: str) -> list[int]:
    return [int(v[name]) if str(v.get(name) or "").isdigit() else 0 for v in variables_list]


def _receipts(variables_list: list[dict]) -> list[dict]:
    from gasworks.payments.models import Payment

    ids = _ids(variables_list, "payment_id")
    numbers = dict(Payment.objects.filter(pk__in=set(ids)).values_list("pk", "receipt_no"))
    return [{"receipt_no": numbers.get(pk) or ""} for pk in ids]


def _bill_figures(variables_list: list[dict]) -> list[dict]:
    from gasworks.billing.models import Bill

    ids = _ids(variables_list, "bill_id")
    # The name and account number come with every message (sender.prefetch_late): a bill's
    # notice goes to the bill's customer.
    rows = Bill.objects.filter(pk__in=set(ids)).values_list("pk", "period", "total", "due_on")
    link = f"{_site()}/payments/pay/"
    found = {
        pk: {"period": period, "amount": str(total), "due_on": _day(due_on), "link": link}
        for pk, period, total, due_on in rows
    }
    return [found.get(pk, {}) for pk in ids]


# Variables looked up when a message is worded, a sending round's messages of a kind at once
# (variables of each → what to add): the receipt is numbered after its notice was queued, and a
# bill notice keeps only its bill's id (a run of a million bills writes small rows).
LATE_VARIABLES = {"payment_received": _receipts, "bill_issued": _bill_figures}


def low_balance(event) -> None:
    # One per fall below the alert: the key carries the fall's balance and day.
    ref = f"low:{event.balance}:{timezone.localdate().isoformat()}"
    enqueue("low_balance", [(ref, event.customer_id, {"balance": event.balance})])


def valve_command(event) -> None:
    from gasworks.customers.models import Customer

    # The premises' current holder (a name transfer leaves the old, closed account there too).
    customer_id = (
        Customer.objects.filter(premises__meters__pk=event.meter_id)
        .order_by("closed_on", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if customer_id is None:
        return
    kind = "valve_closed" if event.command == "close" else "valve_opened"
    enqueue(kind, [(f"valve:{event.command_id}", customer_id, {"reason": event.reason})])


def _appointment(kind: str, event) -> None:
    # One per appointment: the key is the task and the booked start (booked again, told again).
    starts = _when(event.starts_at)
    ends = timezone.localtime(event.ends_at).strftime("%H:%M")
    ref = f"task:{event.task_id}:{event.starts_at.isoformat()}"
    enqueue(kind, [(ref, event.customer_id, {"starts_at": starts, "ends_at": ends})])


def inspection_booked(event) -> None:
    _appointment("inspection_appointment", event)


def inspection_tomorrow(event) -> None:
    _appointment("inspection_reminder", event)


def nobody_home(event) -> None:
    enqueue(
        "nobody_home", [(f"task:{event.task_id}", event.customer_id, {"visited_at": _when(event.visited_at)})]
    )


def deadline_passed(event) -> None:
    # The deadline is in the key: a hazard reopened with a new deadline is told again when that passes.
    enqueue(
        "hazard_deadline_passed",
        [
            (
                f"hazard:{event.hazard_id}:{_day(event.deadline)}",
                event.customer_id,
                {"deadline": _day(event.deadline)},
            )
        ],
    )


def deadline_near(event) -> None:
    enqueue(
        "hazard_deadline",
        [
            (
                f"hazard:{event.hazard_id}:{event.days_left}",
                event.customer_id,
                {"deadline": _day(event.deadline), "days_left": event.days_left},
            )
        ],
    )


def emergency_reported(event) -> None:
    from gasworks.safety.models import Emergency

    if event.customer_id is None:
        return
    address = Emergency.objects.filter(pk=event.emergency_id).values_list("address", flat=True).first() or ""
    enqueue(
        "emergency_received", [(f"emergency:{event.emergency_id}", event.customer_id, {"address": address})]
    )


def emergency_dispatched(event) -> None:
    from gasworks.safety.models import Emergency

    row = Emergency.objects.filter(pk=event.emergency_id).values_list("customer_id", "address").first()
    if row is None or row[0] is None:
        return
    enqueue("emergency_dispatched", [(f"emergency:{event.emergency_id}", row[0], {"address": row[1]})])


def lpg_delivered(event) -> None:
    enqueue(
        "lpg_delivery",
        [
            (
                f"order:{event.order_id}",
                event.customer_id,
                {"order_no": event.order_id, "amount": event.amount or ""},
            )
        ],
    )


def _service_request(kind_code: str, event) -> None:
    from gasworks.service.desk.models import RequestKind, ServiceRequest

    # A disconnection order is announced by the collections ladder's own notices, not as a request.
    if event.kind == RequestKind.DISCONNECTION:
        return
    req = ServiceRequest.objects.filter(pk=event.request_id).only("pk", "opened_at", "kind", "due_by").first()
    if req is None:
        return
    variables = {"request_no": req.number, "due_by": _when(req.due_by)}
    enqueue(kind_code, [(f"service:{req.pk}:{kind_code}", event.customer_id, variables)])


def service_request_opened(event) -> None:
    _service_request("service_request_opened", event)


def service_request_done(event) -> None:
    _service_request("service_request_done", event)


# The collections ladder's steps (gasworks.service.collections) -> their notices.
LADDER_NOTICES = {
    "reminder": "overdue_reminder",
    "final_notice": "final_notice",
    "disconnection_order": "disconnection_notice",
}


def collection_steps(event) -> None:
    enqueue(
        LADDER_NOTICES[event.step],
        (
            (f"step:{pk}", customer_id, {"amount": amount, "due_on": _day(due), "cut_on": _day(cut_on)})
            for pk, customer_id, amount, due, cut_on in event.items
        ),
    )


def instalment_due(event) -> None:
    enqueue(
        "instalment_due",
        [
            (
                f"instalment:{event.instalment_id}",
                event.customer_id,
                {"amount": event.amount, "due_on": _day(event.due_on)},
            )
        ],
    )


def arrangement_ended(event) -> None:
    enqueue(
        "arrangement_ended",
        [(f"arrangement:{event.arrangement_id}", event.customer_id, {"amount": event.left})],
    )
