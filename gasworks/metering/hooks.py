"""Where metering plugs into the rest: menu, customer page panel, demo and benchmark data."""

from django.utils.translation import gettext_lazy as _


def connect() -> None:
    from gasworks.customers.management.commands import generate_data, seed_demo
    from gasworks.metering import demo
    from gasworks.web import navigation
    from gasworks.web.views import CUSTOMER_SECTIONS

    Item = navigation.Item
    navigation.register(Item(_("Meters"), "metering:meter-list", "metering.view_meter", icon="speedometer"))
    navigation.register(
        Item(_("Reading routes"), "metering:route-list", "metering.view_readingroute", icon="signpost-split")
    )
    navigation.register(
        Item(_("Review queue"), "metering:review-queue", "metering.review_reading", icon="check2-square")
    )
    navigation.register(
        Item(
            _("Tamper alerts"), "metering:alert-list", "metering.view_tamperalert", icon="shield-exclamation"
        )
    )
    navigation.register(
        Item(
            _("MQTT dead letters"), "metering:dead-letter-list", "metering.view_deadletter", icon="envelope-x"
        )
    )
    if customer_meters not in CUSTOMER_SECTIONS:
        CUSTOMER_SECTIONS.append(customer_meters)
    if demo.seed not in seed_demo.EXTRA_SEEDERS:
        seed_demo.EXTRA_SEEDERS.append(demo.seed)
    if demo.seed_supply not in seed_demo.EXTRA_SEEDERS:
        seed_demo.EXTRA_SEEDERS.append(demo.seed_supply)  # after the customers' readings
    if demo.generate not in generate_data.EXTRA_GENERATORS:
        generate_data.EXTRA_GENERATORS.append(demo.generate)


def customer_meters(request, customer):
    """The customer page's panel: meters at the premises with their last reading."""
    if not request.user.has_perm("metering.view_meter"):
        return None
    from gasworks.metering.models import Meter, Reading

    meters = list(Meter.objects.filter(premises_id=customer.premises_id).order_by("status", "serial_no"))
    for meter in meters:
        meter.last = (
            Reading.objects.filter(meter=meter).exclude(status="rejected").order_by("-taken_at").first()
        )
    return {"template": "metering/customer_section.html", "title": _("Meters"), "meters": meters}
