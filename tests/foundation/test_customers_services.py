import pytest

from gasworks.customers import services
from gasworks.customers.models import Customer, Premises, Status, StatusChange
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib import checkdigit
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_it_gives_account_numbers_with_a_valid_check_digit():
    customer = make_customer()
    assert len(customer.account_no) == 10
    assert checkdigit.is_valid(customer.account_no)


def test_it_catches_a_mistyped_account_number():
    number = make_customer().account_no
    typo = number[:-2] + str((int(number[-2]) + 1) % 10) + number[-1]
    with pytest.raises(InvalidInput) as caught:
        services.check_account_no(typo)
    assert caught.value.code == "invalid_account_no"
    assert services.check_account_no(f" {number[:4]}-{number[4:]} ") == number


def test_it_catches_every_single_digit_typo():
    body = "010000042"
    number = checkdigit.with_check_digit(body)
    for position in range(len(number)):
        for digit in "0123456789":
            if digit != number[position]:
                typo = number[:position] + digit + number[position + 1 :]
                assert not checkdigit.is_valid(typo), typo


def test_it_hands_out_distinct_numbers_in_blocks():
    block = services.reserve_account_numbers(50)
    assert len(set(block)) == 50
    assert services.reserve_account_numbers(1)[0] not in block


def test_it_refuses_a_customer_without_a_name_and_writes_nothing():
    with pytest.raises(InvalidInput) as caught:
        services.open_account(services.CustomerData(name=" ", category="residential", phone="1", address="x"))
    assert "name" in caught.value.fields
    assert Customer.objects.count() == 0
    assert Premises.objects.count() == 0


def test_it_records_the_opening_in_the_history():
    customer = make_customer()
    assert list(customer.status_changes.values_list("event", "to_status")) == [("opened", "active")]


def test_it_suspends_reactivates_and_closes_with_history():
    customer = make_customer()
    services.suspend(customer, "arrears")
    services.reactivate(customer)
    services.close(customer, "moved away")
    customer.refresh_from_db()
    assert customer.status == Status.CLOSED
    assert customer.closed_on is not None
    events = list(customer.status_changes.values_list("event", flat=True))
    assert events == ["opened", "suspended", "reactivated", "closed"]


def test_it_needs_a_reason_to_suspend():
    customer = make_customer()
    with pytest.raises(InvalidInput):
        services.suspend(customer, "  ")
    customer.refresh_from_db()
    assert customer.status == Status.ACTIVE


def test_a_closed_account_accepts_no_change():
    customer = make_customer(name="旧名")
    services.close(customer, "moved")
    with pytest.raises(DomainError) as caught:
        services.update_account(customer, name="新名")
    assert caught.value.code == "account_closed"
    with pytest.raises(DomainError) as caught:
        services.reactivate(customer)
    assert caught.value.code == "illegal_status_change"
    customer.refresh_from_db()
    assert customer.name == "旧名"
    assert customer.status == Status.CLOSED


def test_it_updates_fields_and_the_premises_address():
    customer = make_customer()
    services.update_account(customer, name="王五", household_size=5, address="新地址1号")
    customer.refresh_from_db()
    assert (customer.name, customer.household_size, customer.premises.address) == ("王五", 5, "新地址1号")


def test_a_name_transfer_keeps_the_premises_and_closes_the_old_account():
    old = make_customer(name="甲")
    holder = services.CustomerData(name="乙", category="", phone="13900000000", address="", household_size=2)
    new = services.transfer(old, holder)
    old.refresh_from_db()
    assert old.status == Status.CLOSED
    assert new.premises_id == old.premises_id
    assert new.account_no != old.account_no
    assert (new.name, new.category, new.status) == ("乙", old.category, Status.ACTIVE)
    assert StatusChange.objects.get(customer=old, event="transferred").to_status == Status.CLOSED
    assert old.account_no in StatusChange.objects.get(customer=new, event="opened").reason


def test_a_failed_transfer_changes_nothing():
    old = make_customer()
    holder = services.CustomerData(name="", category="", phone="", address="")
    with pytest.raises(InvalidInput):
        services.transfer(old, holder)
    old.refresh_from_db()
    assert old.status == Status.ACTIVE
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [("张", {"张伟"}), ("1391234", {"张伟"}), ("幸福路", {"李娜"}), ("", {"张伟", "李娜"}), ("赵", set())],
)
def test_it_searches_by_name_phone_address_and_account(query, expected):
    make_customer(name="张伟", phone="13912345678", address="北京市朝阳区望京路1号")
    make_customer(name="李娜", phone="13800000001", address="北京市海淀区幸福路2号")
    found = set(services.search(Customer.objects.all(), query).values_list("name", flat=True))
    assert found == expected


def test_it_finds_by_account_number_prefix():
    target = make_customer(name="目标")
    make_customer(name="其他")
    found = services.search(Customer.objects.all(), target.account_no)
    assert list(found.values_list("name", flat=True)) == ["目标"]
