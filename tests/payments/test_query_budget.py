"""The counter payment's database round trips, pinned: each one costs a cashier's latency and,
after the receipt counter is taken, every other cashier's too."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from gasworks.payments.models import Payment
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db

# Token and user 1, the user's permissions 1, customer 1, idempotency record insert 1, shift
# (locked, pk only) 1, payment insert 1, account lock and balance (one UPDATE ... RETURNING) 1,
# ledger entry 1, receipt counter and the number onto the payment (one statement) 1, the receipt
# notice in the same transaction (the customer with its notification preferences 1, the outbox
# rows 1), the collections ladder ended if nothing is overdue any more (one UPDATE over the
# account's arrears) 1, the account's active payment arrangement, locked to count the money
# toward it (one indexed SELECT ... FOR UPDATE that finds none here) 1, idempotency answer 1 = 14
# on PostgreSQL, plus the test's savepoint pair around the request's transaction (in production
# that is BEGIN/COMMIT). SQLite takes two statements for the account (lock, then balance) and two
# for the receipt (counter, then payment): 16. It was 25, then 15, then 10 + 2 before
# notifications, then 12 before the collections ladder and payment arrangements.
# counter_max_amount comes from the parameters' cached copy (gasworks.system.parameters).
COUNTER_PAYMENT_QUERIES = {"postgresql": 14 + 2, "sqlite": 16 + 2}


def post(client, token, customer, key):
    return client.post(
        "/api/v1/payments/",
        {"customer": customer.pk, "amount": "35.50", "method": "cash", "tendered": "50"},
        format="json",
        HTTP_AUTHORIZATION=f"Token {token}",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_it_takes_a_counter_payment_in_a_pinned_number_of_queries():
    customer, cashier = make_customer(), make_user("cashier")
    token = Token.objects.create(user=cashier).key
    client = APIClient()
    assert post(client, token, customer, "warm-up").status_code == 201  # opens the shift and account
    with CaptureQueriesContext(connection) as queries:
        response = post(client, token, customer, "measured")
    assert response.status_code == 201, response.content
    sql = [q["sql"] for q in queries]
    assert len(sql) == COUNTER_PAYMENT_QUERIES[connection.vendor], "\n".join(s[:120] for s in sql)
    # No permission is read twice, and no parameter at all.
    assert sum("auth_permission" in s for s in sql) == 1
    assert not [s for s in sql if "system_parameter" in s]
    # The receipt counter is taken after every other write but the ones that carry its number.
    counter = next(i for i, s in enumerate(sql) if "payments_receiptcounter" in s)
    after = [s.split(" ")[0:2] for s in sql[counter + 1 :]]
    numbered_payment = [] if connection.vendor == "postgresql" else [["UPDATE", '"payments_payment"']]
    assert after == [*numbered_payment, ["UPDATE", '"system_idempotentrequest"'], ["RELEASE", "SAVEPOINT"]]
    assert Payment.objects.count() == 2


def test_a_replayed_key_writes_nothing_and_reads_once():
    customer, cashier = make_customer(), make_user("cashier")
    token = Token.objects.create(user=cashier).key
    client = APIClient()
    first = post(client, token, customer, "same")
    with CaptureQueriesContext(connection) as queries:
        again = post(client, token, customer, "same")
    assert again.status_code == 201 and again.json() == first.json()
    assert Payment.objects.count() == 1
    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE"))]
    assert writes == [w for w in writes if "system_idempotentrequest" in w]  # only the refused insert
