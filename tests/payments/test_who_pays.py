"""Who may pay how, in one rule (payments.services.check_payer) used by the API and the pages."""

import pytest

from gasworks.errors import NotAllowed
from gasworks.payments import services
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["cash", "card", "bank"])
def test_a_customer_pays_online_only(method):
    customer = make_user("customer", customer=make_customer())
    services.check_payer(customer, "online")
    with pytest.raises(NotAllowed) as refused:
        services.check_payer(customer, method)
    assert refused.value.code == "online_only"
    assert not services.may_take_at_counter(customer)


def test_the_counter_needs_its_permission():
    cashier, reader = make_user("cashier"), make_user("meter_reader")
    services.check_payer(cashier, "cash")
    assert services.may_take_at_counter(cashier)
    with pytest.raises(NotAllowed) as refused:
        services.check_payer(reader, "cash")
    assert refused.value.code == "permission_denied"
    assert not services.may_take_at_counter(reader)
    services.check_payer(reader, "online")  # staff may open an online order for a customer
