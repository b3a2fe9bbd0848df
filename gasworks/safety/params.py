"""Safety parameters (the inspection intervals per category are registered by the foundation)."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from gasworks.system.parameters import Spec, register

register(
    Spec(
        "hazard_deadline_ordinary_days",
        int,
        30,
        _("Rectification deadline, ordinary hazard (days)"),
        "safety",
        Decimal("0"),
    ),
    Spec(
        "hazard_deadline_key_days",
        int,
        15,
        _("Rectification deadline, key hazard (days)"),
        "safety",
        Decimal("0"),
    ),
    Spec(
        "hazard_deadline_major_days",
        int,
        3,
        _("Rectification deadline, major hazard (days)"),
        "safety",
        Decimal("0"),
    ),
    Spec(
        "inspection_plan_lead_days",
        int,
        30,
        _("Plan an inspection this many days before it is due"),
        "safety",
        Decimal("0"),
    ),
    Spec(
        "inspection_follow_up_days",
        int,
        7,
        _("Follow-up visit after nobody was home, days later"),
        "safety",
        Decimal("0"),
    ),
    Spec("safety_photo_max_mb", int, 10, _("Largest photo upload (MB)"), "safety", Decimal("1")),
    Spec(
        "safety_photo_max_px",
        int,
        1600,
        _("Photos are resized to at most this many pixels"),
        "safety",
        Decimal("200"),
    ),
    # Inspections the customer books in the portal: a grid of slots per working day.
    Spec("inspection_slot_minutes", int, 60, _("Inspection slot length (minutes)"), "safety", Decimal("15")),
    Spec(
        "inspection_day_start_hour",
        int,
        9,
        _("Inspection slots start at this hour"),
        "safety",
        Decimal("0"),
    ),
    Spec(
        "inspection_day_end_hour",
        int,
        17,
        _("Inspection slots end by this hour"),
        "safety",
        Decimal("1"),
    ),
    Spec(
        "inspection_booking_notice_hours",
        int,
        24,
        _("Minimum notice for a visit booked in the portal (hours)"),
        "safety",
        Decimal("0"),
    ),
    Spec(
        "inspection_booking_days_ahead",
        int,
        14,
        _("Days ahead the portal offers inspection slots"),
        "safety",
        Decimal("1"),
    ),
    Spec(
        "inspection_holidays",
        str,
        "",
        _("Days without inspection visits (YYYY-MM-DD, separated by commas)"),
        "safety",
    ),
)
