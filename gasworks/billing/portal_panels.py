"""Billing's panels on the customer's portal page (gasworks.web.views.PORTAL_SECTIONS): where
the account stands in its tariff year, usage by month, and the bills with their status."""

import json

from django.utils import timezone

from gasworks.billing import portal

# Where each panel sits on the page (notices of other apps come first, with no order).
ORDER_STANDING, ORDER_USAGE, ORDER_BILLS = 20, 30, 40


def standing_panel(request, customer):
    standing = portal.tariff_standing(customer)
    if standing is None:
        return None
    return {"template": "billing/portal_standing.html", "order": ORDER_STANDING, "standing": standing}


def usage_panel(request, customer):
    usage = portal.usage_by_month(customer)
    return {
        "template": "billing/portal_usage.html",
        "order": ORDER_USAGE,
        "chart": json.dumps(portal.chart_data(usage)),
        "usage": usage,
        "scripts": ["vendor/echarts/echarts.min.js", "billing/usage_chart.js"],
    }


def bills_panel(request, customer):
    states, owed = portal.bill_states(customer, timezone.localdate())
    return {
        "template": "billing/portal_bills.html",
        "order": ORDER_BILLS,
        "wide": True,
        "states": states,
        "owed": owed,
    }


PANELS = (standing_panel, usage_panel, bills_panel)
