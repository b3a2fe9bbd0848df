import datetime
import itertools
from decimal import Decimal

from django.utils import timezone

from gasworks.cylinders import services
from gasworks.cylinders.models import Cylinder, CylinderEvent, Filling

_n = itertools.count(1)


def make_cylinder(code=None, model="YSP35.5", tare="15.000", age_years=1, **kw) -> Cylinder:
    today = timezone.localdate()
    data = services.CylinderData(
        code=code if code is not None else f"T{next(_n):06d}",
        model=model,
        tare_kg=Decimal(tare),
        manufactured_on=kw.pop("manufactured_on", today - datetime.timedelta(days=365 * age_years)),
        **kw,
    )
    return services.register_cylinder(data)


def make_full(code=None, gross="29.000", **kw) -> Cylinder:
    cylinder = make_cylinder(code, **kw)
    services.record_filling(cylinder.code, Decimal(gross))
    cylinder.refresh_from_db()
    return cylinder


def counts() -> tuple:
    return (Filling.objects.count(), CylinderEvent.objects.count())


def ensure_price(price="110") -> None:
    from gasworks.cylinders.models import LpgPrice

    LpgPrice.objects.get_or_create(
        model="YSP35.5",
        per_kg=False,
        effective_from=datetime.date(2020, 1, 1),
        defaults={"price": Decimal(price)},
    )


def loaded(customer, n=1, worker=None):
    """An order of n YSP35.5 placed, assigned and loaded with n fresh full cylinders (14 kg net)."""
    from gasworks.cylinders import orders
    from tests.factories import make_user

    ensure_price()
    order = orders.place_order(customer, "YSP35.5", n, "phone")
    orders.assign(order, worker or make_user("dispatcher"), "京A12345")
    fulls = [make_full() for _ in range(n)]
    orders.load(order, [c.code for c in fulls])
    order.refresh_from_db()
    return order, fulls


def delivered(customer, n=1, **kw):
    from gasworks.cylinders import orders

    order, fulls = loaded(customer, n)
    return orders.deliver(order, **kw), fulls
