"""Test data made through the real services, so tests see what production code would write."""

import itertools

from gasworks.accounts import services as account_services
from gasworks.customers import services as customer_services

PASSWORD = "correct-horse-battery-1"
_counter = itertools.count(1)


def make_customer(**overrides):
    n = next(_counter)
    data = {
        "name": f"客户{n}",
        "category": "residential",
        "phone": f"1380000{n:04d}",
        "address": f"北京市朝阳区测试路{n}号",
        "household_size": 3,
    }
    data.update(overrides)
    return customer_services.open_account(customer_services.CustomerData(**data))


def make_user(role: str, customer=None, username: str | None = None, password: str = PASSWORD):
    if role == "customer" and customer is None:
        customer = make_customer()
    return account_services.create_user(username or f"{role}{next(_counter)}", password, role, customer)
