import threading
from decimal import Decimal

import pytest
from django.db import connection

from gasworks.cylinders import services
from gasworks.cylinders.models import Filling
from gasworks.errors import DomainError
from tests.cylinders.helpers import make_cylinder


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_fills_a_cylinder_once_when_two_fillers_race():
    cylinder = make_cylinder()
    barrier = threading.Barrier(4)
    results: list = []

    def fill():
        try:
            barrier.wait()
            services.record_filling(cylinder.code, Decimal("29.000"))
            results.append("filled")
        except DomainError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=fill) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["filled", "wrong_status", "wrong_status", "wrong_status"]
    assert Filling.objects.filter(cylinder=cylinder).count() == 1
