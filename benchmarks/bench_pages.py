"""Every staff page, as every staff role, on PostgreSQL with a year of generated history.

Walks the URL patterns (no list to keep up to date: a new page is measured the day it is added),
skipping the API, the Django admin, the customer portal, login and password pages. A pattern with
arguments gets an object from the data (the newest of its kind; a customer with a year of bills
and payments). Each role logs in with Django's test client (the full middleware stack, no
network) and GETs every page it may open; pages it may not (403, 404, 405: action endpoints
that take POST only) are counted, not timed. Prints each page's p50/p95 over --requests GETs
and its query count, flagging those above the --budget (300 ms: issue 13's goal).

    .venv/bin/python benchmarks/bench_pages.py                       # data generated if empty
    .venv/bin/python benchmarks/bench_pages.py --customers 100000 --months 12 --requests 5
    .venv/bin/python benchmarks/bench_pages.py --only billing: --roles cashier

Before walking, the nightly jobs run once (billing's arrears snapshot, the reports' rollup
refresh: see nightly(); --no-nightly skips them), so the pages are timed as staff see them.

Database: BENCH_DATABASE_URL_HISTORY (default postgres://postgres@127.0.0.1:5432/gasworks_bench_history,
shared with bench_reports);
when it has no customers, generate_data --customers N --months M fills it first."""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import percentile, setup

os.environ.update({"SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "ALLOWED_HOSTS": "testserver"})

SKIP_PREFIXES = ("api/", "django-admin/", "i18n/", "accounts/", "favicon", "static/", "media/")
# Customer-facing pages (the portal): not staff pages.
SKIP_NAMES = {
    "portal",
    "register",
    "payments:my",
    "payments:pay-bill",
    "payments:qr-pay",
    "payments:order-status",
    "payments:sandbox-pay",
    "cylinders:my-orders",
    "safety:portal-hazards",
    "safety:portal-emergency",
    "safety:portal-inspections",
}
# Which model an <int:pk> of a URL names, by the URL name's start (the longest match wins).
PK_MODELS = {
    "metering:meter-": "metering.Meter",
    "metering:reading-import-preview": "metering.ReadingImport",
    "metering:review-": "metering.Reading",
    "metering:route-": "metering.ReadingRoute",
    "metering:alert-": "metering.TamperAlert",
    "billing:run-": "billing.BillingRun",
    "billing:bill-": "billing.Bill",
    "billing:review-": "billing.BillReview",
    "billing:adjustment-": "billing.Adjustment",
    "payments:detail": "payments.Payment",
    "payments:receipt": "payments.Payment",
    "payments:refund": "payments.Payment",
    "payments:refund-": "payments.Refund",
    "payments:shift-": "payments.Shift",
    "payments:card-": "payments.ICCard",
    "payments:counter-customer": "customers.Customer",
    "cylinders:order": "cylinders.LpgOrder",
    "safety:inspection-": "safety.InspectionTask",
    "safety:hazard-": "safety.Hazard",
    "safety:emergency-": "safety.Emergency",
    "safety:crew-": "safety.Crew",
    "safety:area-": "safety.InspectorArea",
    "safety:checklist-": "safety.ChecklistTemplate",
    "customer-": "customers.Customer",
    "user-": "accounts.User",
}
# Query strings worth a row of their own: a search, a filter, a deep page.
VARIANTS = {
    "customer-list": ["?q={customer_name}", "?page=200"],
    "billing:bill-list": ["?page=200", "?period={period}"],
    "payments:list": ["?page=200"],
    "audit-list": [
        "?page=50",
        "?actor={cashier_id}",
        "?model=payments.Payment",
        "?action=reversal",
        "?q={customer_name}",
        "?since={month_ago}&until={today}",
    ],
    "billing:overdue-list": ["?district={district}", "?district={district}&category=residential&page=20"],
}


def walk_patterns():
    """(route with <converters>, URL name) of every named staff page pattern."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace
                ns = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield prefix + str(pattern.pattern), name

    for route, name in walk(get_resolver().url_patterns, "", None):
        if route.startswith(SKIP_PREFIXES) or name in SKIP_NAMES or route.startswith("^"):
            continue
        yield route, name


def _model_for(name: str):
    from django.apps import apps

    best = max((p for p in PK_MODELS if name.startswith(p)), key=len, default=None)
    return apps.get_model(PK_MODELS[best]) if best else None


def samples() -> dict:
    """The objects pages are opened on: a customer with the most history, the newest of the rest."""
    from django.db.models import Max

    from gasworks.billing.models import Bill
    from gasworks.customers.models import Customer
    from gasworks.reports.framework import REPORTS

    newest_bill = Bill.objects.order_by("-pk").values_list("customer_id", "period").first()
    customer_id = newest_bill[0] if newest_bill else Customer.objects.aggregate(m=Max("pk"))["m"]
    customer = Customer.objects.filter(pk=customer_id).first()
    from datetime import timedelta
    from urllib.parse import quote

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from gasworks.payments.models import Shift

    today = timezone.localdate()
    cashier = Shift.objects.order_by("-pk").values_list("cashier_id", flat=True).first()
    cashier = cashier or get_user_model().objects.order_by("pk").values_list("pk", flat=True).first()
    district = customer.premises.district if customer and customer.premises_id else ""
    return {
        "cashier_id": cashier or "",
        "district": quote(district),
        "today": today.isoformat(),
        "month_ago": (today - timedelta(days=30)).isoformat(),
        "customer_id": customer_id,
        "customer_name": (customer.name[:2] if customer else "王"),
        "period": newest_bill[1] if newest_bill else "",
        "reports": sorted(REPORTS),
    }


def urls(sample: dict) -> list[tuple[str, str]]:
    """(label, URL) of every staff page with an object to open it on; patterns whose object
    does not exist in the data are reported and left out."""
    import re

    from django.contrib.auth import get_user_model

    from gasworks.cylinders.models import Cylinder

    out: list[tuple[str, str]] = []
    missing: list[str] = []
    for route, name in walk_patterns():
        params = re.findall(r"<(?:(\w+):)?(\w+)>", route)
        values: dict[str, list[str]] = {}
        ok = True
        for _converter, param in params:
            if param in ("customer_pk", "customer_id"):
                values[param] = [str(sample["customer_id"])]
            elif param == "pk":
                model = _model_for(name)
                if model is get_user_model():
                    pk = (
                        model.objects.filter(is_active=True)
                        .order_by("-pk")
                        .values_list("pk", flat=True)
                        .first()
                    )
                elif model is not None and model.__name__ == "Customer":
                    pk = sample["customer_id"]
                else:
                    pk = model.objects.order_by("-pk").values_list("pk", flat=True).first() if model else None
                if pk is None:
                    ok = False
                values[param] = [str(pk)]
            elif param == "code":
                code = Cylinder.objects.order_by("-pk").values_list("code", flat=True).first()
                ok = ok and code is not None
                values[param] = [str(code)]
            elif param == "name":
                values[param] = sample["reports"]
                ok = ok and bool(sample["reports"])
            else:  # verb, decision, verdict, order_no ...: actions, not pages
                ok = False
        if not ok:
            missing.append(name)
            continue
        combos: list[dict[str, str]] = [{}]
        for param, options in values.items():
            combos = [{**c, param: o} for c in combos for o in options]
        for combo in combos:
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m, c=combo: c[m.group(1)], route)
            label = name + "".join(f" {v}" for k, v in combo.items() if k == "name")
            out.append((label, "/" + path))
            for extra in VARIANTS.get(name, []):
                try:
                    query = extra.format(**sample)
                except KeyError:
                    continue
                out.append((f"{label} {query}", "/" + path + query))
    if missing:
        print(f"not walked (an action, or no object of its kind in the data): {', '.join(sorted(missing))}")
    return out


def role_users() -> dict:
    """A user per staff role (made on first use), the roles as they are when this runs."""
    from django.contrib.auth import get_user_model

    from gasworks.accounts.roles import STAFF_ROLES, Role
    from gasworks.accounts.services import create_user

    roles = [str(r) for r in STAFF_ROLES]
    if "manager" not in roles and "manager" in [str(r) for r in Role]:
        roles.append("manager")
    users = {}
    for role in roles:
        name = f"bench-{role}"
        users[role] = get_user_model().objects.filter(username=name).first() or create_user(
            name, f"bench-{role}-not-for-login-9", role
        )
    return users


def measure(client, url: str, requests: int) -> tuple[int, list[float], int]:
    """(status, timings in ms, queries of the first request) of `requests` GETs of url. Queries
    are counted by an execute wrapper: Django empties connection.queries at each request start."""
    from django.db import connection

    count = [0]

    def counter(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        response = client.get(url)
        timings = [(time.perf_counter() - started) * 1000]
    if response.status_code != 200:
        return response.status_code, timings, count[0]
    for _ in range(requests - 1):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return 200, timings, count[0]


def run(roles=None, only: str = "", requests: int = 5, budget: float = 300.0, out=print) -> list[dict]:
    """Walk every page as every role; returns the rows printed."""
    import logging

    from django.conf import settings
    from django.test import Client

    logging.getLogger("django.request").setLevel(logging.ERROR)  # the 403s of pages a role may not open
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    sample = samples()
    pages = [(label, url) for label, url in urls(sample) if only in label or only in url]
    users = role_users()
    rows = []
    out(f"{'page':58} {'role':12} {'p50 ms':>8} {'p95 ms':>8} {'queries':>7}")
    for role, user in users.items():
        if roles and role not in roles:
            continue
        client = Client()
        client.force_login(user)
        refused = 0
        for label, url in pages:
            status, timings, queries = measure(client, url, requests)
            if status != 200:
                refused += 1
                if status >= 500:
                    out(f"{label:58} {role:12} status {status}: {url}")
                continue
            p50, p95 = percentile(timings, 50), percentile(timings, 95)
            slow = p95 > budget
            rows.append({"page": label, "url": url, "role": role, "p50": p50, "p95": p95, "queries": queries})
            out(
                f"{label:58} {role:12} {p50:8.1f} {p95:8.1f} {queries:7d}{f'  SLOW (> {budget:.0f} ms)' if slow else ''}"
            )
        out(
            f"-- {role}: {len(pages) - refused} pages timed, {refused} not open to this role (403/404/405/302)"
        )
    slow_rows = [r for r in rows if r["p95"] > budget]
    out(
        f"{len(rows)} page × role measurements, {len({r['page'] for r in rows})} pages; "
        f"{len(slow_rows)} above {budget:.0f} ms p95: {', '.join(sorted({r['page'] for r in slow_rows})) or 'none'}"
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000, help="generated when the database is empty")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--requests", type=int, default=5, help="GETs per page and role")
    parser.add_argument("--budget", type=float, default=300.0, help="ms; pages above it are flagged")
    parser.add_argument("--roles", nargs="*", help="only these roles")
    parser.add_argument("--only", default="", help="only pages whose name or URL contains this")
    parser.add_argument("--no-nightly", action="store_true", help="skip the nightly jobs (see nightly())")
    args = parser.parse_args()
    setup("history")  # shared with bench_reports: one generated year serves both
    from django.core.management import call_command

    from gasworks.customers.models import Customer

    if not Customer.objects.exists():
        print(f"generating {args.customers} customers with {args.months} months of history ...")
        call_command("generate_data", customers=args.customers, months=args.months, no_progress=True)
    from gasworks.billing.models import Bill

    print(
        f"data: {Customer.objects.count():,} customers, {Bill.objects.count():,} bills "
        f"(estimates not used: exact counts, once)"
    )
    if not args.no_nightly:
        nightly()
    run(args.roles, args.only, args.requests, args.budget)


def nightly() -> None:
    """The pages as staff see them in the morning: after the nightly jobs (billing's arrears
    snapshot, the reports' rollup refresh), which generate_data does not run. Without them the
    arrears page and report computed every account's arrears per request (1-1.5 s at 30,000
    customers), and the dashboard's trends read the ledger where a rollup would be."""
    from gasworks.billing import arrears
    from gasworks.reports import rollups

    started = time.perf_counter()
    snapshot = arrears.refresh()
    print(
        f"nightly: arrears.refresh() {time.perf_counter() - started:.1f} s ({snapshot['accounts']} accounts)"
    )
    started = time.perf_counter()
    done = rollups.refresh()
    print(f"nightly: rollups.refresh() {time.perf_counter() - started:.1f} s ({done})")


if __name__ == "__main__":
    main()
