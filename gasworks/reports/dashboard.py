"""The staff dashboard: a tile per figure that the user's role may see. Reports reads every
domain and no domain reads reports (dependencies point one way), so the tiles live here. Each tile is one cheap,
indexed query; a tile appears only with its permission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gasworks.lib.dates import start_of_day
from gasworks.lib.db import DecimalSum

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Tile:
    label: StrOrPromise
    value: object
    url: str = ""
    tone: str = ""  # "", "warning" or "danger"
    money: bool = False


def _today_start():
    return start_of_day(timezone.localdate())


def _customers(user) -> list[Tile]:
    from gasworks.customers.models import Customer, Status

    if not user.has_perm("customers.view_customer"):
        return []
    counts = dict(Customer.objects.values_list("status").annotate(n=Count("pk")))
    url = reverse("customer-list")
    return [
        Tile(_("Active accounts"), counts.get(Status.ACTIVE, 0), url),
        Tile(_("Suspended accounts"), counts.get(Status.SUSPENDED, 0), f"{url}?status=suspended"),
    ]


def readings_since(at):
    """Readings taken since `at`, whatever their status. Every status is named so that the
    (status, taken_at) index serves the range, one short index range per status: on taken_at
    alone no index leads, and the count read every reading of the year (12,000,000 at a
    million customers) to find this month's."""
    from gasworks.metering.models import Reading, ReadingStatus

    return Reading.objects.filter(status__in=ReadingStatus.values, taken_at__gte=at)


def _metering(user) -> list[Tile]:
    from gasworks.metering.models import Reading, ReadingStatus, TamperAlert

    tiles = []
    if user.has_perm("metering.review_reading"):
        flagged = Reading.objects.filter(status=ReadingStatus.FLAGGED).count()
        tiles.append(
            Tile(
                _("Readings awaiting review"),
                flagged,
                reverse("metering:review-queue"),
                "warning" if flagged else "",
            )
        )
    if user.has_perm("metering.view_meter"):
        month_start = _today_start().replace(day=1)
        tiles.append(
            Tile(
                _("Readings this month"),
                readings_since(month_start).count(),
                reverse("metering:meter-list"),
            )
        )
        alerts = TamperAlert.objects.filter(closed_at__isnull=True).count()
        if user.has_perm("metering.view_tamperalert"):
            tiles.append(
                Tile(
                    _("Open tamper alerts"),
                    alerts,
                    reverse("metering:alert-list"),
                    "danger" if alerts else "",
                )
            )
    return tiles


def _billing(user) -> list[Tile]:
    from gasworks.billing.models import Account

    if not user.has_perm("billing.view_bill"):
        return []
    owed = Account.objects.filter(balance__lt=0).aggregate(s=DecimalSum("balance"), n=Count("pk"))
    return [
        Tile(_("Accounts owing"), owed["n"], reverse("billing:overdue-list"), "warning" if owed["n"] else ""),
        Tile(_("Total owed"), -(owed["s"] or Decimal("0.00")), reverse("billing:overdue-list"), money=True),
    ]


def _payments(user) -> list[Tile]:
    from gasworks.payments.models import Payment, PaymentStatus

    if not user.has_perm("payments.view_payment"):
        return []
    today = Payment.objects.filter(
        paid_at__gte=_today_start(),
        status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.PARTLY_REFUNDED, PaymentStatus.REFUNDED),
    ).aggregate(s=DecimalSum("amount"), n=Count("pk"))
    url = reverse("payments:list")
    return [
        Tile(_("Payments today"), today["n"], url),
        Tile(_("Taken today"), today["s"] or Decimal("0.00"), url, money=True),
    ]


def _cylinders(user) -> list[Tile]:
    from gasworks.cylinders.models import Cylinder, CylinderStatus, LpgOrder, OrderStatus

    tiles = []
    if user.has_perm("cylinders.view_cylinder"):
        soon = timezone.localdate() + timedelta(days=30)
        due = (
            Cylinder.objects.exclude(status=CylinderStatus.SCRAPPED)
            .filter(next_inspection_on__lte=soon)
            .count()
        )
        tiles.append(
            Tile(
                _("Cylinders due for inspection (30 days)"),
                due,
                reverse("cylinders:due"),
                "warning" if due else "",
            )
        )
    if user.has_perm("cylinders.view_lpgorder"):
        waiting = LpgOrder.objects.filter(
            status__in=(OrderStatus.PLACED, OrderStatus.ASSIGNED, OrderStatus.OUT)
        ).count()
        tiles.append(Tile(_("LPG orders to deliver"), waiting, reverse("cylinders:orders")))
    return tiles


def _safety(user) -> list[Tile]:
    from gasworks.safety.models import OPEN_EMERGENCY_STATUSES, UNCLOSED_HAZARD_STATUSES, Emergency, Hazard

    tiles = []
    if user.has_perm("safety.view_hazard"):
        counts = Hazard.objects.filter(status__in=UNCLOSED_HAZARD_STATUSES).aggregate(
            n=Count("pk"),
            major=Count("pk", filter=Q(level="major")),
            overdue=Count("pk", filter=Q(deadline__lt=timezone.localdate())),
        )
        url = reverse("safety:hazard-list")
        tiles.append(Tile(_("Unclosed hazards"), counts["n"], url))
        tiles.append(
            Tile(
                _("Major hazards blocking supply"), counts["major"], url, "danger" if counts["major"] else ""
            )
        )
        tiles.append(
            Tile(
                _("Hazards past their deadline"),
                counts["overdue"],
                url,
                "warning" if counts["overdue"] else "",
            )
        )
    if user.has_perm("safety.view_emergency"):
        open_now = Emergency.objects.filter(status__in=OPEN_EMERGENCY_STATUSES).count()
        tiles.append(
            Tile(
                _("Open emergencies"),
                open_now,
                reverse("safety:emergency-board"),
                "danger" if open_now else "",
            )
        )
    return tiles


def _service(user) -> list[Tile]:
    """Overdue service requests of the kinds the user's role owns (all, for the overseers)."""
    from gasworks.service.desk import services

    if not user.has_perm("service.view_servicerequest"):
        return []
    late = services.overdue(services.visible_to(user)).count()
    url = reverse("service:desk-list") + "?overdue=1"
    return [Tile(_("Overdue service requests"), late, url, "danger" if late else "")]


SECTIONS = [
    (_("Customers"), _customers),
    (_("Metering"), _metering),
    (_("Billing"), _billing),
    (_("Payments"), _payments),
    (_("LPG cylinders"), _cylinders),
    (_("Safety"), _safety),
    (_("Service"), _service),
]


def tiles_for(user) -> list[dict]:
    return [{"label": label, "tiles": tiles} for label, build in SECTIONS if (tiles := build(user))]
