"""Run by tests/system/test_replica.py in a process of its own, with DATABASE_URL at a primary
and DATABASE_REPLICA_URLS at its hot standby (tests/system/standby.py): the report pages, the
report API and a background export read from the standby; writes, reads after a write and
reads inside a primary transaction stay on the primary. Exits non-zero on the first failure."""

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")
os.environ.update({"SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "ALLOWED_HOSTS": "testserver"})

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from gasworks.accounts.models import User  # noqa: E402
from gasworks.accounts.services import create_user  # noqa: E402
from gasworks.lib import replicas  # noqa: E402
from gasworks.reports import background  # noqa: E402
from gasworks.reports.models import Export, ExportStatus  # noqa: E402

primary, replica = connections["default"], connections["replica_1"]


def replayed() -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    lsn = primary.cursor().execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + 30
    while not replica.cursor().execute("SELECT pg_last_wal_replay_lsn() >= %s", [lsn]).fetchone()[0]:
        assert time.monotonic() < deadline, "the standby did not catch up"
        time.sleep(0.05)


def assert_ok(response) -> None:
    assert response.status_code == 200, (response.status_code, response.content[:500])


def tables(queries) -> str:
    return " ".join(q["sql"] for q in queries)


def reads_on_replica(fetch) -> None:
    """`fetch` reads the report's tables on the standby and not on the primary."""
    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(primary) as on_primary:
        fetch()
    assert "billing_bill" in tables(on_replica) or "reports_" in tables(on_replica), tables(on_replica)
    assert "billing_bill" not in tables(on_primary) and "reports_sales" not in tables(on_primary), tables(
        on_primary
    )


settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
assert replicas.aliases() == ["replica_1"], replicas.aliases()
assert replica.cursor().execute("SELECT pg_is_in_recovery()").fetchone() == (True,), "not a standby"

manager = create_user("replica-check", "replica-check-not-for-login-9", "manager")
replayed()
client = Client()
client.force_login(manager)
query = {"from": "2026-01", "to": "2026-06"}

reads_on_replica(lambda: assert_ok(client.get("/reports/sales/", query)))
print("report page read from the standby")
reads_on_replica(lambda: assert_ok(client.get("/api/v1/reports/sales/", query)))
print("report API read from the standby")

# A background export (its own unit of work; its progress notes are written to the primary).
export = Export.objects.create(user=manager, report="sales", params=query, format="csv", language="en")
replayed()
reads_on_replica(lambda: background.run_export(export.pk))
assert Export.objects.get(pk=export.pk).status == ExportStatus.DONE
print("background export read from the standby")

# Read-after-write: after a write in the unit of work, its reads stay on the primary.
with replicas.fresh_request(), replicas.reporting():
    assert replicas.read_alias() == "replica_1"
    User.objects.filter(pk=manager.pk).update(first_name="Replica")  # a write: to the primary
    assert replicas.read_alias() == "default"
    assert User.objects.get(pk=manager.pk).first_name == "Replica"  # read back from the primary
print("a unit that wrote reads from the primary")

# Inside a transaction on the primary, reads stay there too (they must see its snapshot).
with replicas.fresh_request(), replicas.reporting(), transaction.atomic():
    assert replicas.read_alias() == "default"
print("a primary transaction reads the primary")
print("replica check passed")
