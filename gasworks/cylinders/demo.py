"""Demo cylinders for seed_demo: a few hundred of mixed models and ages (some due for inspection,
some scrapped), prices, and a few orders in every state. Idempotent: skipped when present."""

import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

DEMO_CYLINDERS = 300
MIX = [
    ("YSP35.5", "15.2", 60),
    ("YSP12", "9.0", 15),
    ("YSP4.7", "5.0", 8),
    ("YSP26.2", "12.5", 10),
    ("YSP118", "48.0", 7),
]


def seed(stdout) -> None:
    from gasworks.customers.models import Customer
    from gasworks.cylinders import orders, services
    from gasworks.cylinders.models import Cylinder, LpgPrice
    from gasworks.cylinders.rules import add_years

    if Cylinder.objects.filter(code__startswith="DEMO").exists():
        return
    rng = random.Random(6)
    today = timezone.localdate()
    LpgPrice.objects.get_or_create(
        model="", per_kg=True, effective_from=datetime.date(2025, 1, 1), defaults={"price": Decimal("7.8000")}
    )
    LpgPrice.objects.get_or_create(
        model="YSP35.5",
        per_kg=False,
        effective_from=datetime.date(2025, 1, 1),
        defaults={"price": Decimal("118.0000")},
    )
    models = [m for m, _t, w in MIX for _ in range(w)]
    tares = {m: Decimal(t) for m, t, _w in MIX}
    for n in range(DEMO_CYLINDERS):
        model = rng.choice(models)
        age_days = rng.randint(30, 365 * 11)
        made = today - datetime.timedelta(days=age_days)
        standard = "GB5842-2006" if rng.random() < 0.8 else "GB5842-1996"
        next_on = None
        if n % 12 == 0:  # due soon: within the 30/60/90-day lists
            next_on = today + datetime.timedelta(days=rng.randint(1, 89))
        elif age_days > 365 * 4:
            next_on = add_years(today, 1) + datetime.timedelta(days=rng.randint(0, 600))
        cylinder = services.register_cylinder(
            services.CylinderData(
                code=f"DEMO{n + 1:05d}",
                model=model,
                tare_kg=tares[model] + Decimal(rng.randint(-30, 30)) / 100,
                manufactured_on=made,
                next_inspection_on=next_on,
                maker=rng.choice(["北京天海", "宁波美恪", "山东华通"]),
                standard=standard,
            )
        )
        if n % 25 == 7:
            services.scrap(cylinder.code, note="demo: corroded")
        elif n % 3 != 0 and cylinder.next_inspection_on >= today and cylinder.scrap_on > today:
            net = cylinder.rated_fill_kg - Decimal(rng.randint(0, 30)) / 100
            services.record_filling(cylinder.code, cylinder.tare_kg + net, scale_id="SIM-1")
    customers = list(Customer.objects.filter(category="residential", status="active").order_by("pk")[:6])
    worker = get_user_model().objects.filter(role="dispatcher", is_active=True).first()
    fulls = list(
        Cylinder.objects.filter(code__startswith="DEMO", model="YSP35.5", status="full_in_station").order_by(
            "code"
        )
    )
    for index, customer in enumerate(customers):
        order = orders.place_order(customer, "YSP35.5", 1 + index % 2, "phone" if index % 2 else "portal")
        if worker is None or index < 2:
            continue  # left placed for the dispatcher
        orders.assign(order, worker, f"京A·L0{index}")
        if index == 2:
            continue
        load = [fulls.pop(0).code for _ in range(order.quantity)]
        orders.load(order, load)
        if index >= 4:
            orders.deliver(order)
    stdout.write(f"LPG cylinders: {DEMO_CYLINDERS} demo cylinders and {len(customers)} orders.")
