"""Notification parameters: quiet hours, the daily cap, retries, advance notice, the signature."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from gasworks.system.parameters import GROUP_LABELS, Spec, register

GROUP_LABELS.setdefault("notifications", _("Notifications"))

register(
    Spec(
        "sms_signature",
        str,
        "【燃气公司】",
        _("SMS signature (as approved by the provider)"),
        "notifications",
    ),
    Spec(
        "quiet_hours_start", int, 21, _("SMS quiet hours start (hour, 0–23)"), "notifications", Decimal("0")
    ),
    Spec("quiet_hours_end", int, 8, _("SMS quiet hours end (hour, 0–23)"), "notifications", Decimal("0")),
    Spec(
        "notify_daily_cap",
        int,
        5,
        _("Most messages per customer and day, per channel"),
        "notifications",
        Decimal("1"),
    ),
    Spec(
        "notify_max_attempts",
        int,
        5,
        _("Tries before a message is marked failed"),
        "notifications",
        Decimal("1"),
    ),
    Spec(
        "notify_claim_stale_seconds",
        int,
        600,
        _("Seconds after which a message left sending by a stopped sender is settled"),
        "notifications",
        Decimal("1"),
    ),
    Spec(
        "supply_interruption_notice_hours",
        int,
        24,
        _("Remind customers this many hours before a supply interruption"),
        "notifications",
        Decimal("1"),
    ),
)
