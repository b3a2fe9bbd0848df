"""Prepaid accounts: smart meters are charged as their readings arrive; the balance is watched
for the low-balance alert and, once exhausted below the credit limit, a smart meter's valve is
told to close (recorded always, published over MQTT best-effort after commit)."""

import json
import logging
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlparse

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing import ledger
from gasworks.billing.events import LowBalance, ValveCommandQueued
from gasworks.billing.models import (
    Account,
    BillLine,
    BillStatus,
    EntryKind,
    PrepaidCharge,
    ValveCommand,
    ValveCommandKind,
    ValveCommandStatus,
)
from gasworks.billing.tariffs import household_factor, household_rule, load_specs, price_period, spec_for
from gasworks.errors import DomainError
from gasworks.lib import events
from gasworks.lib.db import DecimalSum
from gasworks.lib.tiers import TariffError
from gasworks.metering import billable
from gasworks.metering.models import Meter, MeterKind, MeterStatus, Reading

log = logging.getLogger(__name__)


def charge_prepaid_reading(reading) -> PrepaidCharge | None:
    """Charge a prepaid account for one billable reading, once (idempotent per reading).
    Returns None when the account is not prepaid or the reading carries no volume."""
    volume = billable.volume(reading.consumption, reading.corrected_consumption)
    if not billable.is_billable(reading.status) or not volume:
        return None
    account = Account.objects.filter(customer_id=reading.customer_id, prepaid=True).first()
    if account is None:
        return None
    existing = PrepaidCharge.objects.filter(reading_id=reading.pk).first()
    if existing:
        return existing
    customer = reading.customer
    spec = spec_for(load_specs(), customer.category, customer.gas_use)
    if spec is None:
        raise DomainError("no_tariff", _("No tariff applies to this customer."))
    day = timezone.localdate(reading.taken_at)
    year = spec.year_of(day)
    base, ratio = household_rule()
    with transaction.atomic():
        ledger.account_for(customer, lock=True)  # serialise charges of one account
        prior = (
            BillLine.objects.filter(
                bill__customer_id=customer.pk, bill__status=BillStatus.ISSUED, tariff_year=year
            ).aggregate(v=DecimalSum("volume"))["v"]
            or 0
        ) + (
            PrepaidCharge.objects.filter(customer_id=customer.pk, tariff_year=year).aggregate(
                v=DecimalSum("volume")
            )["v"]
            or 0
        )
        factor = household_factor(customer.category, customer.household_size, base, ratio)
        try:
            priced = price_period(spec, factor, day, day + timedelta(days=1), volume, {year: Decimal(prior)})
        except TariffError as exc:
            raise DomainError(exc.code, exc.message) from None
        amount = sum((line.amount for line in priced.lines), Decimal("0.00"))
        if amount == 0:
            return None
        entry = ledger.post(
            customer,
            EntryKind.PREPAID_CHARGE,
            -amount,
            reference=_("Gas %(v)s m³") % {"v": volume},
            idempotency_key=f"reading:{reading.pk}",
        )
        charge = PrepaidCharge.objects.create(
            reading=reading,
            customer=customer,
            volume=volume,
            amount=amount,
            tariff_year=year,
            entry=entry,
            created_at=timezone.now(),
        )
        transaction.on_commit(lambda: after_charge([customer.pk]))
    return charge


def after_charge(customer_ids) -> None:
    """Update the low-balance marks (publishing LowBalance when one is newly set) and queue
    valve closes for exhausted prepaid accounts."""
    now = timezone.now()
    for account in Account.objects.filter(customer_id__in=customer_ids, prepaid=True).select_related(
        "customer"
    ):
        if account.balance < account.low_balance_alert and account.low_balance_since is None:
            # Only the update that sets the mark publishes, so a concurrent run cannot tell twice.
            if Account.objects.filter(pk=account.pk, low_balance_since__isnull=True).update(
                low_balance_since=now
            ):
                events.publish(LowBalance(account.customer_id, account.balance, account.low_balance_alert))
        elif account.balance >= account.low_balance_alert and account.low_balance_since is not None:
            Account.objects.filter(pk=account.pk).update(low_balance_since=None)
        if account.balance <= -account.credit_limit:
            for meter in _smart_meters(account.customer):
                queue_valve(meter, ValveCommandKind.CLOSE, _("Prepaid balance exhausted"))


def _smart_meters(customer):
    return Meter.objects.filter(
        premises_id=customer.premises_id, kind=MeterKind.SMART, status=MeterStatus.INSTALLED
    )


def queue_valve(meter, command: str, reason: str = "") -> ValveCommand | None:
    """Record a valve command unless the same one is already the meter's latest; publish it
    over MQTT after commit (best effort: a broker outage leaves it queued for a retry)."""
    latest = ValveCommand.objects.filter(meter=meter).order_by("-pk").first()
    if latest is not None and latest.command == command:
        return None
    cmd = ValveCommand.objects.create(
        meter=meter, command=command, reason=reason[:120], created_at=timezone.now()
    )
    events.publish(ValveCommandQueued(cmd.pk, meter.pk, command, cmd.reason))
    return cmd


def reopen_if_funded(customer) -> ValveCommand | None:
    """After a top-up: open the valve again once the balance is above the credit limit."""
    account = ledger.account_for(customer)
    if not account.prepaid or account.balance <= -account.credit_limit:
        return None
    opened = None
    for meter in _smart_meters(customer):
        opened = queue_valve(meter, ValveCommandKind.OPEN, _("Balance topped up")) or opened
    after_charge([customer.pk])
    return opened


def topic(meter) -> str:
    return f"gasworks/meters/{meter.serial_no}/commands"


def send_valve_command(event: ValveCommandQueued) -> bool:
    """Subscriber of ValveCommandQueued: send the command over MQTT."""
    return publish(event.command_id)


def publish(command_id: int) -> bool:
    """Send one queued valve command over MQTT, best effort: a broker outage leaves it queued
    (False) for the next attempt."""
    cmd = ValveCommand.objects.select_related("meter").get(pk=command_id)
    if cmd.status != ValveCommandStatus.QUEUED:
        return False
    try:
        import paho.mqtt.publish as mqtt_publish

        url = urlparse(settings.MQTT_URL)
        mqtt_publish.single(
            topic(cmd.meter),
            json.dumps({"id": cmd.pk, "command": cmd.command}),
            qos=1,
            hostname=url.hostname or "127.0.0.1",
            port=url.port or 1883,
            keepalive=5,
        )
    except Exception:
        log.warning("valve command %s not published", cmd.pk, exc_info=True)
        return False
    ValveCommand.objects.filter(pk=cmd.pk, status=ValveCommandStatus.QUEUED).update(
        status=ValveCommandStatus.SENT, sent_at=timezone.now()
    )
    return True


def charge_arrived(customer_ids) -> int:
    """Readings arrived for these customers (ReadingsStored, on commit); charge the
    billable, not yet charged ones of prepaid accounts, oldest first. One query when none is
    prepaid, so ordinary accounts pay nothing for it. Returns how many were charged."""
    prepaid_ids = list(
        Account.objects.filter(customer_id__in=customer_ids, prepaid=True).values_list(
            "customer_id", flat=True
        )
    )
    if not prepaid_ids:
        return 0
    pending = (
        Reading.objects.filter(
            customer_id__in=prepaid_ids, status__in=billable.STATUSES, prepaid_charge__isnull=True
        )
        .select_related("customer")
        .order_by("customer_id", "taken_at")
    )
    charged = 0
    for reading in pending:
        try:
            charged += charge_prepaid_reading(reading) is not None
        except DomainError:
            # No tariff for this customer: the reading stays uncharged, and the billing run
            # (which reports it) or the next arrival tries again.
            continue
    return charged
