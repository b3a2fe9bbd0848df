"""Billing's hooks into the shared web shell: menu entries, the customer-page panel and the
demo data (installed from BillingConfig.ready)."""

from datetime import date

from django.utils.translation import gettext_lazy as _


def install() -> None:
    from gasworks.billing import generate
    from gasworks.billing.views import customer_section
    from gasworks.customers.management.commands.generate_data import EXTRA_GENERATORS
    from gasworks.customers.management.commands.seed_demo import EXTRA_SEEDERS
    from gasworks.web.navigation import Item, register
    from gasworks.web.views import CUSTOMER_SECTIONS

    register(Item(_("Tariffs"), "billing:tariff-list", "billing.view_tariff", icon="tags"))
    register(Item(_("Billing runs"), "billing:run-list", "billing.view_billingrun", icon="calculator"))
    register(Item(_("Bills"), "billing:bill-list", "billing.view_bill", icon="receipt"))
    register(Item(_("Arrears"), "billing:overdue-list", "billing.view_bill", icon="exclamation-triangle"))
    if customer_section not in CUSTOMER_SECTIONS:
        CUSTOMER_SECTIONS.append(customer_section)
    if seed_tariffs not in EXTRA_SEEDERS:
        EXTRA_SEEDERS.append(seed_tariffs)
    # After metering's (its readings are what the runs bill): billing comes later in app order.
    if generate.generate not in EXTRA_GENERATORS:
        EXTRA_GENERATORS.append(generate.generate)


# The Beijing residential tariff (cooking/hot water: 350 / 500 m³ steps at 2.61 / 2.83 / 4.23
# CNY, and boiler heating quotas, per calendar year) and the commercial/industrial flat price.
DEMO_TARIFFS: list[tuple[str, str, str, list[tuple[str | None, str]]]] = [
    ("北京居民用气（炊事）", "residential", "cooking", [("350", "2.61"), ("500", "2.83"), (None, "4.23")]),
    (
        "北京居民用气（壁挂炉采暖）",
        "residential",
        "heating",
        [("1500", "2.61"), ("2500", "2.83"), (None, "4.23")],
    ),
    ("非居民用气", "commercial", "", [(None, "2.63")]),
    ("工业用气", "industrial", "", [(None, "2.63")]),
]


def seed_tariffs(stdout=None) -> int:
    """Idempotent: a tariff already present is left alone."""
    from gasworks.billing.models import Tariff
    from gasworks.billing.tariffs import create_tariff

    created = 0
    for name, category, gas_use, ladder in DEMO_TARIFFS:
        if Tariff.objects.filter(category=category, gas_use=gas_use).exists():
            continue
        create_tariff(
            name, category, date(2024, 1, 1), [{"up_to": u, "price": p} for u, p in ladder], gas_use=gas_use
        )
        created += 1
    if stdout is not None:
        stdout.write(f"Tariffs: {created} added.")
    return created
