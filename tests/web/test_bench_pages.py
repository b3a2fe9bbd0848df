"""benchmarks/bench_pages.py walks every staff page from the URL patterns (none listed by hand),
opens the ones that need an object on one from the data, and measures each for each role."""

import sys
from pathlib import Path

import pytest

from tests.factories import make_customer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_pages

pytestmark = pytest.mark.django_db


def test_every_staff_list_page_is_walked_and_the_portal_and_api_are_not():
    routes = {name: route for route, name in bench_pages.walk_patterns()}
    for name in ("home", "customer-list", "billing:bill-list", "payments:list", "payments:counter"):
        assert name in routes
    assert not [r for r in routes.values() if r.startswith(("api/", "django-admin/"))]
    assert "portal" not in routes and "payments:my" not in routes


def test_pages_with_an_object_are_opened_on_one_and_every_role_is_measured():
    customer = make_customer(name="王五")
    lines: list[str] = []
    rows = bench_pages.run(roles=["admin", "cashier"], only="customer", requests=1, out=lines.append)
    opened = {(r["role"], r["url"]) for r in rows}
    assert ("admin", f"/customers/{customer.pk}/") in opened
    assert ("cashier", f"/payments/counter/{customer.pk}/") in opened
    assert not [line for line in lines if "status 5" in line]  # no page broke
    assert all(r["p95"] >= r["p50"] > 0 and r["queries"] > 0 for r in rows)
