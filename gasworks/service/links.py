"""How the parts of the service app act on each other's events (each listed in
gasworks/subscriptions.py): the collections ladder's orders become the desk's field work, the
desk's completed work moves the ladder on, and a move-out completes its desk request."""

from django.utils.translation import gettext as _

from gasworks.customers.models import Customer
from gasworks.service.collections import services as collections
from gasworks.service.collections.events import DisconnectionCancelled, DisconnectionOrdered, ReconnectionDue
from gasworks.service.desk import services as desk
from gasworks.service.desk.events import DisconnectionDone
from gasworks.service.desk.models import RequestKind, RequestSource, RequestStatus, ServiceRequest
from gasworks.service.moveout.events import AccountMovedOut


def open_disconnection_order(event: DisconnectionOrdered) -> None:
    """The ladder ordered supply cut: a disconnection work order for the crew, in the run's
    transaction (the order and its step commit together). One live order per customer: a
    second step finds the first order."""
    desk.open_request(
        Customer.objects.get(pk=event.customer_id),
        RequestKind.DISCONNECTION,
        _("Collections: the debt is long overdue (step %(step)s).") % {"step": event.step_id},
        source=RequestSource.SYSTEM,
        existing_ok=True,
    )


def cancel_disconnection_order(event: DisconnectionCancelled) -> None:
    """The debt was paid before the crew cut the supply: the open disconnection work order is
    cancelled in the payment's transaction, so no crew goes out to a paid-up customer. (An
    order the crew already started stays: the crew is told on its page and finishes or cancels
    it by hand.)"""
    desk.cancel_system_disconnections(
        event.customer_id, _("Collections: the debt was paid before the supply was cut.")
    )


def open_reconnection_order(event: ReconnectionDue) -> None:
    """A customer whose supply was cut has paid: a reconnection work order, in the payment's
    transaction."""
    desk.open_request(
        Customer.objects.get(pk=event.customer_id),
        RequestKind.RECONNECTION,
        _("Collections: the debt is paid; reconnect the supply."),
        source=RequestSource.SYSTEM,
        existing_ok=True,
    )


def supply_cut(event: DisconnectionDone) -> None:
    """The crew cut the supply: the customer's open disconnection step is done (a disconnection
    opened at the desk for another reason has no step, and changes nothing in the ladder)."""
    collections.disconnection_done_for(event.customer_id)


def complete_moved_out_request(event: AccountMovedOut) -> None:
    """The move-out flow did a transfer or move-out's work: the desk request it came from (or
    the customer's one live request of that kind) is completed. After commit: a request that
    cannot be completed never undoes a committed move-out."""
    kind = RequestKind.TRANSFER if event.new_customer_id else RequestKind.MOVE_OUT
    live = ServiceRequest.objects.filter(customer_id=event.customer_id, kind=kind).exclude(
        status__in=[RequestStatus.DONE, RequestStatus.CANCELLED]
    )
    request = live.filter(pk=event.request_id).first() if event.request_id else live.order_by("pk").first()
    if request is not None:
        desk.complete_linked(request, _("Done through the move-out flow."), by=None)
