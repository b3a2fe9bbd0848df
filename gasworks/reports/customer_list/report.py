"""Every customer account with its premises, filtered like the customer list page (category,
status, district, search). A list, not a summary: the page shows the first rows and the count,
the export streams them all (a million rows at flat memory, in the background above the
`export_background_rows` parameter)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from gasworks.customers import services as customer_services
from gasworks.customers.models import Category, Customer, Status
from gasworks.reports.framework import Column, Params, Report, Result

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PAGE_ROWS = 100
FIELDS = ("account_no", "name", "category", "status", "phone", "household_size", "opened_on")
JOINED = {"district": F("premises__district"), "address": F("premises__address")}


class CustomerList(Report):
    name = "customers"
    title = _("Customer list")
    description = _("Every account with its premises, as filtered; for Excel.")
    permission = "customers.view_customer"
    period = "none"
    filters = ("category", "status", "district", "search")
    listed = False  # exported from the customer list page, not a figure of the Reports menu

    def filter_choices(self, name: str) -> list[tuple[str, str]]:
        if name == "category":
            return [(str(k), str(v)) for k, v in Category.choices]
        if name == "status":
            return [(str(k), str(v)) for k, v in Status.choices]
        return []

    def columns(self) -> list[Column]:
        return [
            Column("account_no", _("Account number")),
            Column("name", _("Name")),
            Column("category", _("Category"), "code", dict(Category.choices)),
            Column("status", _("Status"), "code", dict(Status.choices)),
            Column("phone", _("Phone")),
            Column("district", _("District")),
            Column("address", _("Address")),
            Column("household_size", _("Household size"), "count"),
            Column("opened_on", _("Opened on"), "day"),
        ]

    def queryset(self, params: Params) -> QuerySet:
        queryset = Customer.objects.order_by("account_no")
        if params.get("category"):
            queryset = queryset.filter(category=params.get("category"))
        if params.get("status"):
            queryset = queryset.filter(status=params.get("status"))
        if params.get("district"):
            queryset = queryset.filter(premises__district=params.get("district"))
        return customer_services.search(queryset, params.get("search"))

    def count(self, params: Params) -> int:
        return self.queryset(params).count()

    def rows(self, params: Params) -> Iterator[dict]:
        # A server-side cursor on PostgreSQL: rows arrive in chunks, memory stays flat.
        return self.queryset(params).values(*FIELDS, **JOINED).iterator(chunk_size=5000)

    def run(self, params: Params) -> Result:
        rows = list(self.queryset(params).values(*FIELDS, **JOINED)[:PAGE_ROWS])
        count = self.count(params) if len(rows) == PAGE_ROWS else len(rows)
        notes: list[tuple[StrOrPromise, str]] = [(_("Accounts"), f"{count:,}")]
        if count > len(rows):
            notes.append(
                (_("Shown here"), _("the first %(n)d; the export holds them all") % {"n": len(rows)})
            )
        return Result(self.columns(), rows, {}, notes=notes)
