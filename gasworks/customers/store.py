"""The customers app's SQL: bulk writes of generated benchmark data (generate_data), COPY on
PostgreSQL and bulk_create elsewhere. Nothing else in customers opens a cursor or asks which
database it is on."""

from django.db import connection

from gasworks.customers.models import Customer, Premises
from gasworks.lib.db import copy_rows

CUSTOMER_COLUMNS = (
    "id",
    "account_no",
    "name",
    "category",
    "gas_use",
    "phone",
    "premises_id",
    "household_size",
    "opened_on",
    "status",
    "id_number",
    "created_at",
    "updated_at",
)


def next_ids() -> tuple[int, int]:
    """The first free premises id and customer id; on PostgreSQL both tables stay locked against
    other writers until the caller's transaction ends (a concurrent generator waits)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE customers_premises, customers_customer IN EXCLUSIVE MODE")
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM customers_premises")
        premises_start = cursor.fetchone()[0] + 1
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM customers_customer")
        customer_start = cursor.fetchone()[0] + 1
    return premises_start, customer_start


def write_generated(premises: list[tuple], people: list[tuple], now) -> None:
    """Premises as (id, address, district) and customers as the first nine CUSTOMER_COLUMNS,
    active, with their ids given; the id sequences moved past them."""
    if connection.vendor == "postgresql":
        copy_rows(
            connection,
            "customers_premises",
            ["id", "address", "district", "created_at"],
            [(*p, now) for p in premises],
        )
        copy_rows(
            connection, "customers_customer", CUSTOMER_COLUMNS, [(*c, "active", "", now, now) for c in people]
        )
        with connection.cursor() as cursor:
            for table in ("customers_premises", "customers_customer"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608
                )
        return
    Premises.objects.bulk_create(
        [Premises(id=i, address=a, district=d) for i, a, d in premises], batch_size=5000
    )
    Customer.objects.bulk_create(
        [
            Customer(
                id=i,
                account_no=n,
                name=name,
                category=cat,
                gas_use=use,
                phone=ph,
                premises_id=p,
                household_size=h,
                opened_on=o,
            )
            for i, n, name, cat, use, ph, p, h, o in people
        ],
        batch_size=5000,
    )
