"""How much gas a prepaid (IC-card) top-up buys: the customer's tariff in effect at the time,
tiered on what the customer already bought or was billed for in the tariff year."""

from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing import tariffs
from gasworks.billing.models import Bill
from gasworks.lib import tiers as tiermath
from gasworks.lib.db import DecimalSum


def volume_for_amount(
    customer, amount: Decimal, at, prior_purchased: Decimal = Decimal("0")
) -> tuple[Decimal | None, str]:
    """(volume in m³ or None, note). prior_purchased is the volume already loaded on the
    customer's cards in this tariff year (the payments app knows it)."""
    day: date = timezone.localdate(at)
    spec = tariffs.spec_for(tariffs.load_specs(), customer.category, customer.gas_use)
    if spec is None:
        return None, _("No tariff for this customer: the card carries money; the meter converts it.")
    base, ratio = tariffs.household_rule()
    factor = tariffs.household_factor(customer.category, customer.household_size, base, ratio)
    version = next((v for v in reversed(spec.versions_for(factor)) if v.effective_from <= day), None)
    if version is None:
        return None, _("No price is in effect today: the card carries money; the meter converts it.")
    year_start = spec.year_of(day)
    billed = Bill.objects.filter(customer_id=customer.pk, period_start__gte=year_start).aggregate(
        v=DecimalSum("volume")
    )["v"] or Decimal("0")
    prior = billed + prior_purchased
    volume = tiermath.volume_for_amount(prior, amount, version.tiers)
    note = _("%(volume)s m³ at the tariff of %(since)s, after %(prior)s m³ this tariff year") % {
        "volume": volume,
        "since": version.effective_from,
        "prior": prior,
    }
    return volume, note
