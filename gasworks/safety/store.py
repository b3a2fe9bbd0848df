"""The safety app's SQL: bulk writes of generated inspection histories (benchmark data), COPY
through a temporary table on PostgreSQL and bulk_create elsewhere. Nothing else in safety opens a
cursor or asks which database it is on."""

from django.db import connection

from gasworks.customers.models import Customer
from gasworks.safety.models import InspectionTask


def write_generated_history(opened: list[tuple], history: list[tuple], columns: list[str]) -> None:
    """Generated benchmark data (gasworks.safety.generate): customers' opening days as
    (customer id, opened_on) and inspection tasks as rows in ``columns`` order."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE safety_gen_opened (id bigint, opened_on date) ON COMMIT DROP")
            with cursor.copy("COPY safety_gen_opened (id, opened_on) FROM STDIN") as copy:
                for row in opened:
                    copy.write_row(row)
            cursor.execute(
                "UPDATE customers_customer c SET opened_on = g.opened_on "
                "FROM safety_gen_opened g WHERE c.id = g.id"
            )
            with cursor.copy(f"COPY safety_inspectiontask ({', '.join(columns)}) FROM STDIN") as copy:
                for row in history:
                    copy.write_row(row)
        return
    when = dict(opened)
    people = list(Customer.objects.filter(pk__in=when).only("pk", "opened_on"))
    for person in people:
        person.opened_on = when[person.pk]
    Customer.objects.bulk_update(people, ["opened_on"], batch_size=2000)
    InspectionTask.objects.bulk_create(
        [InspectionTask(**dict(zip(columns, row, strict=True))) for row in history], batch_size=5000
    )
