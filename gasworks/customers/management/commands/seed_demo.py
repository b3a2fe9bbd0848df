"""A small believable station: staff of every role and ~200 customers. Safe to run again."""

import random
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone, translation

from gasworks.accounts import services as account_services
from gasworks.accounts.demo import DEMO_PASSWORD, DEMO_USERS
from gasworks.customers import fakes, services
from gasworks.customers.models import Customer, GasUse
from gasworks.system import parameters
from gasworks.system import services as system_services
from gasworks.system.models import Parameter
from gasworks.system.services import set_parameters

DEMO_CUSTOMERS = 200

# The demo station's contact details, printed on bills and receipts and shown on the leak page.
DEMO_STATION = {
    "station_address": "北京市朝阳区望京街道阜通东大街6号",
    "station_phone": "010-6477-8800",
    "emergency_phone": "010-96777",
}

# Other apps hook their demo data in here (a callable taking the command's stdout).
EXTRA_SEEDERS: list = []

# The demo company is Chinese: its own data (station name, the checklist and its items, crews,
# notes) is written in Chinese, as its staff would type it. Data is not translated (a customer's
# name is not either); the interface around it is, by the catalogue.
DEMO_LANGUAGE = "zh-hans"
DEMO_STATION_NAME = "示范燃气有限公司"


class Command(BaseCommand):
    help = "Load the demo station (idempotent)."

    def handle(self, *args, **options):
        with translation.override(DEMO_LANGUAGE):
            self._handle()

    def _handle(self):
        if not Parameter.objects.filter(key="station_name").exists():
            set_parameters({"station_name": DEMO_STATION_NAME})
        with transaction.atomic():
            created = self._customers()
            self._users()
            seed_station()
        for seeder in EXTRA_SEEDERS:
            seeder(self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} customers added)."))

    def _customers(self) -> int:
        existing = Customer.objects.count()
        rng = random.Random(2026)
        created = 0
        for index in range(DEMO_CUSTOMERS):
            # Draw every customer's values even when it exists, so a rerun stays deterministic.
            category = fakes.category(rng)
            name = fakes.person_name(rng) if category == "residential" else fakes.business_name(rng, category)
            address, district = fakes.address(rng)
            data = services.CustomerData(
                name=name,
                category=category,
                phone=fakes.phone(rng),
                address=address,
                district=district,
                household_size=rng.choice((1, 2, 3, 3, 4, 5, 6)) if category == "residential" else 1,
                gas_use=(GasUse.HEATING if rng.random() < 0.2 else GasUse.COOKING)
                if category == "residential"
                else GasUse.PROCESS,
            )
            # Accounts opened one to six years ago, so meters, bills and inspections have a past.
            opened = timezone.localdate() - timedelta(days=rng.randint(365, 6 * 365))
            if index < existing:
                continue
            customer = services.open_account(data)
            Customer.objects.filter(pk=customer.pk).update(opened_on=opened)
            customer.status_changes.update(at=timezone.make_aware(datetime.combine(opened, time(9))))
            created += 1
        return created

    def _users(self) -> None:
        User = get_user_model()
        for username, role, full_name in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                continue
            customer = None
            if role == "customer":
                customer = (
                    Customer.objects.filter(category="residential", logins__isnull=True)
                    .order_by("pk")
                    .first()
                )
            account_services.create_user(username, DEMO_PASSWORD, role, customer, first_name=full_name)
            if role == "admin":
                User.objects.filter(username=username).update(is_superuser=True, is_staff=True)


def seed_station() -> None:
    """Fill the station's address and phones where the operator has left them blank."""
    blank = {key: value for key, value in DEMO_STATION.items() if not parameters.get(key)}
    if blank:
        system_services.set_parameters(blank)
