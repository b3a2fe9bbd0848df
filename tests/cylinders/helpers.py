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
