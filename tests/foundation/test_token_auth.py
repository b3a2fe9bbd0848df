"""API token authentication: the token, its user and the user's permissions in two queries, with
exactly Django's rules (ModelBackend) and nothing kept from one request to the next."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from gasworks.accounts.access import load_permissions
from gasworks.accounts.models import User
from gasworks.api.auth import TokenAuthentication
from gasworks.system.models import AuditEntry
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _fresh(user) -> User:
    return User.objects.get(pk=user.pk)  # no permission caches yet


def test_it_reads_the_same_permissions_as_django(personas):
    extra = Group.objects.create(name="night-shift")
    extra.permissions.add(Permission.objects.get(codename="approve_refund"))
    cashier = personas["cashier"]
    cashier.groups.add(extra)
    cashier.user_permissions.add(Permission.objects.get(codename="supervise_shift"))
    people = [*(personas[r] for r in ("admin", "cashier", "meter_reader", "filler", "customer")), cashier]
    for person in people:
        ours, django = _fresh(person), _fresh(person)
        expected = ModelBackend().get_all_permissions(django)
        assert load_permissions(ours) == expected, person.role
        assert ours._user_perm_cache == ModelBackend().get_user_permissions(_fresh(person))
        assert ours._group_perm_cache == ModelBackend().get_group_permissions(_fresh(person))
    mine = _fresh(cashier)
    load_permissions(mine)
    assert {"payments.supervise_shift", "payments.approve_refund", "payments.take_counter_payment"} <= (
        mine._perm_cache
    )


def test_it_authenticates_in_two_queries_and_answers_permission_checks_without_more():
    cashier = make_user("cashier")
    key = Token.objects.create(user=cashier).key
    with CaptureQueriesContext(connection) as queries:
        user, token = TokenAuthentication().authenticate_credentials(key)
        assert user.pk == cashier.pk and token.key == key and token.user is user
        assert user.has_perms(["payments.add_payment", "payments.take_counter_payment"])
        assert not user.has_perm("payments.approve_refund")
    assert len(queries) == 2


def test_a_superuser_token_holds_every_permission():
    boss = User.objects.create_superuser("boss", password="x-very-long-password-1")
    key = Token.objects.create(user=boss).key
    user, _token = TokenAuthentication().authenticate_credentials(key)
    assert user.has_perm("payments.approve_refund") and user.has_perm("system.change_parameter")


@pytest.mark.parametrize("case", ["unknown token", "inactive user"])
def test_it_refuses_an_unknown_token_and_an_inactive_user(case):
    cashier = make_user("cashier")
    key = Token.objects.create(user=cashier).key
    if case == "unknown token":
        key = "0" * 40
    else:
        User.objects.filter(pk=cashier.pk).update(is_active=False)
    response = APIClient().get("/api/v1/payments/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_revoked_permission_applies_to_the_next_request():
    cashier = make_user("cashier")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=cashier).key}")
    assert client.get("/api/v1/payments/").status_code == 200
    Group.objects.get(name="cashier").permissions.remove(Permission.objects.get(codename="view_payment"))
    assert client.get("/api/v1/payments/").status_code == 403


def test_the_token_user_is_the_audit_actor():
    cashier = make_user("cashier")
    response = APIClient().post(
        "/api/v1/customers/",
        {"name": "王五", "category": "residential", "phone": "13900000001", "address": "北京市海淀区1号"},
        format="json",
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=cashier).key}",
    )
    assert response.status_code == 201, response.content
    entry = AuditEntry.objects.filter(model="customers.Customer", action="create").latest("pk")
    assert entry.actor_id == cashier.pk
