"""Metering parameters of the customer's self-reading (自报读数) in the portal."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from gasworks.system.parameters import Spec, register

register(
    Spec(
        "self_readings_per_day",
        int,
        1,
        _("Self-readings a customer may send per meter per day (portal)"),
        "metering",
        Decimal("1"),
    ),
    Spec("reading_photo_max_mb", int, 10, _("Largest meter photo upload (MB)"), "metering", Decimal("1")),
    Spec(
        "reading_photo_max_px",
        int,
        1600,
        _("Meter photos are resized to at most this many pixels"),
        "metering",
        Decimal("200"),
    ),
)
