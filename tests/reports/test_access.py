"""Who runs which report. For every registered report (read at import time, so a report added by
another module is covered as soon as it is registered) and every role, the page and the API both
admit or both refuse, as the explicit table below says by permission codename; the Reports menu
shows only to users holding a report; customers get 403 everywhere; the manager approves
adjustments and refunds and is kept out of users and parameters."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from gasworks.billing import adjustments
from gasworks.billing.models import Adjustment, AdjustmentStatus
from gasworks.payments import services as payment_services
from gasworks.payments.models import Refund, RefundStatus
from gasworks.reports import framework
from tests.factories import make_user

pytestmark = pytest.mark.django_db

ROLES = ["admin", "manager", "cashier", "meter_reader", "inspector", "dispatcher", "filler", "customer"]
STAFF = set(ROLES) - {"customer"}

# permission codename -> the roles holding it (the roles paragraph).
HOLDERS = {
    "reports.view_sales_report": {"admin", "manager"},
    "reports.view_collections_report": {"admin", "manager"},
    "reports.view_own_collections": {"admin", "manager", "cashier"},
    "reports.view_arrears_report": {"admin", "manager"},
    "reports.view_reading_report": {"admin", "manager", "meter_reader"},
    "reports.view_supply_balance_report": {"admin", "manager"},
    "reports.view_safety_report": {"admin", "manager", "inspector", "dispatcher"},
    "reports.view_lpg_report": {"admin", "manager", "filler"},
    "customers.view_customer": STAFF,  # the customer list's export
}
# A report also admitting the holders of a narrower permission (it scopes what they see).
ALSO = {
    "collections": ("reports.view_own_collections",),
    "daily-collections": ("reports.view_own_collections",),  # a cashier prints their own day
}

REPORT_NAMES = sorted(framework.REPORTS)


def expected(report) -> set[str]:
    roles = set(HOLDERS[report.permission])
    for codename in ALSO.get(report.name, ()):
        roles |= HOLDERS[codename]
    return roles


def test_the_table_names_every_report_permission():
    from gasworks.reports.apps import REPORT_PERMISSIONS

    assert set(REPORT_PERMISSIONS) <= set(HOLDERS)
    assert all(report.permission in HOLDERS for report in framework.REPORTS.values())


@pytest.mark.parametrize("role", ROLES)
def test_the_roles_hold_exactly_their_report_permissions(personas, role):
    user = personas[role]
    held = {codename for codename in HOLDERS if codename.startswith("reports.") and user.has_perm(codename)}
    assert held == {
        codename for codename, roles in HOLDERS.items() if role in roles and codename.startswith("reports.")
    }


@pytest.mark.parametrize("name", REPORT_NAMES)
@pytest.mark.parametrize("role", ROLES)
def test_page_and_api_admit_the_same_roles(client, personas, name, role):
    report = framework.REPORTS[name]
    client.force_login(personas[role])
    page = client.get(f"/reports/{name}/")
    api = APIClient()
    api.force_authenticate(personas[role])
    answer = api.get(f"/api/v1/reports/{name}/")
    if role in expected(report):
        assert (page.status_code, answer.status_code) == (200, 200), role
    else:
        assert (page.status_code, answer.status_code) == (403, 403), role
        assert client.get(f"/reports/{name}/print/").status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_the_reports_menu_shows_to_holders_of_a_report(client, personas, role):
    from gasworks.reports.apps import REPORT_PERMISSIONS

    client.force_login(personas[role])
    home = client.get("/", follow=True).content.decode()
    holds = any(role in HOLDERS[codename] for codename in REPORT_PERMISSIONS)
    assert ('href="/reports/"' in home) == holds
    assert holds == (role != "customer")


def test_a_staff_user_without_report_permissions_sees_no_reports_menu(client):
    from django.contrib.auth.models import Group, Permission

    user = make_user("filler")
    Group.objects.get(name="filler").permissions.remove(Permission.objects.get(codename="view_lpg_report"))
    client.force_login(user)
    assert 'href="/reports/"' not in client.get("/").content.decode()
    assert client.get("/reports/").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/reports/",
        "/reports/exports/",
        *[f"/reports/{name}/" for name in REPORT_NAMES],
        *[f"/reports/{name}/print/" for name in REPORT_NAMES],
        *[f"/api/v1/reports/{name}/" for name in REPORT_NAMES],
    ],
)
def test_customers_get_403_everywhere(client, personas, path):
    client.force_login(personas["customer"])
    assert client.get(path).status_code == 403


def test_a_customer_cannot_start_an_export(client, personas):
    client.force_login(personas["customer"])
    assert client.post("/reports/customers/export/", {"format": "xlsx"}).status_code == 403


def test_the_manager_approves_an_adjustment(client, personas):
    pending = adjustments.request_adjustment(
        personas["own_customer"], Decimal("-900.00"), "meter misread", personas["cashier"]
    )
    assert pending.status == AdjustmentStatus.PENDING
    client.force_login(personas["cashier"])  # who asked may not approve (and lacks the permission)
    assert client.post(f"/billing/adjustments/{pending.pk}/approve/").status_code == 403
    client.force_login(personas["manager"])
    assert client.post(f"/billing/adjustments/{pending.pk}/approve/").status_code == 302
    assert Adjustment.objects.get(pk=pending.pk).status == AdjustmentStatus.POSTED


def test_the_manager_approves_a_refund(client, personas):
    payment = payment_services.take_counter_payment(
        personas["own_customer"], "1000.00", "cash", personas["cashier"]
    )
    refund = payment_services.request_refund(payment, "800", "paid twice", personas["cashier"])
    assert refund.status == RefundStatus.AWAITING_APPROVAL
    client.force_login(personas["manager"])
    assert client.get("/payments/refunds/").status_code == 200
    assert client.post(f"/payments/refunds/{refund.pk}/approve/").status_code == 302
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.DONE


@pytest.mark.parametrize("path", ["/users/", "/users/new/", "/users/{cashier}/", "/system/parameters/"])
def test_the_manager_may_not_manage_users_or_parameters(client, personas, path):
    client.force_login(personas["manager"])
    assert client.get(path.format(cashier=personas["cashier"].pk)).status_code == 403
    assert client.post("/system/parameters/", {"export_keep_days": "1"}).status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/users/"), ("post", "/api/v1/users/"), ("get", "/api/v1/users/{cashier}/")],
)
def test_the_manager_gets_403_on_the_users_api(personas, method, path):
    api = APIClient()
    api.force_authenticate(personas["manager"])
    body = {"username": "x", "password": "a-long-password-1", "role": "admin"}
    answer = getattr(api, method)(path.format(cashier=personas["cashier"].pk), body, format="json")
    assert answer.status_code == 403


def test_the_manager_reads_everything_else(personas):
    """Every view_* permission of the Gasworks apps, but none on users and parameters, and no
    add/change/delete on them either."""
    from django.contrib.auth.models import Permission

    from gasworks.accounts.roles import gasworks_apps

    manager = personas["manager"]
    views = Permission.objects.filter(
        content_type__app_label__in=gasworks_apps(), codename__startswith="view_"
    )
    missing = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in views.select_related("content_type")
        if not manager.has_perm(f"{p.content_type.app_label}.{p.codename}")
    }
    assert missing == {"accounts.view_user", "system.view_parameter"}
    for action in ("add", "change", "delete"):
        assert not manager.has_perm(f"accounts.{action}_user")
        assert not manager.has_perm(f"system.{action}_parameter")
    assert manager.has_perm("billing.approve_adjustment") and manager.has_perm("payments.approve_refund")
    assert not manager.has_perm("payments.take_counter_payment")  # reads, approves; does not take money
