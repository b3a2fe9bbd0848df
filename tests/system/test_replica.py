"""Read replicas: the router's rules, and reports read from a real hot standby."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings

from gasworks.lib import replicas
from tests.services import require
from tests.system.standby import Standby, bindir

WITH_REPLICAS = {
    **settings.DATABASES,
    "replica_1": settings.DATABASES["default"],
    "replica_2": settings.DATABASES["default"],
}


@override_settings(DATABASES=WITH_REPLICAS)
def test_reads_go_to_a_replica_only_inside_reporting_and_before_any_write():
    router = replicas.Router()
    with replicas.fresh_request():
        assert router.db_for_read(None) == "default"  # not a report: the primary
        with replicas.reporting():
            assert {router.db_for_read(None) for _ in range(4)} == {"replica_1", "replica_2"}  # in turn
            assert router.db_for_write(None) == "default"
            assert router.db_for_read(None) == "default"  # after a write: no read-after-write
    with replicas.fresh_request(), replicas.reporting():
        assert router.db_for_read(None).startswith("replica_")  # the next unit of work starts afresh
        with replicas.aside():
            router.db_for_write(None)  # a progress note
        assert router.db_for_read(None).startswith("replica_")
    assert router.allow_migrate("replica_1", "billing") is False
    assert router.allow_migrate("default", "billing") is True


@pytest.mark.django_db
@override_settings(DATABASES=WITH_REPLICAS)
def test_a_primary_transaction_keeps_its_reads_on_the_primary():
    with replicas.fresh_request(), replicas.reporting(), transaction.atomic():
        assert replicas.read_alias() == "default"


def test_without_replicas_everything_reads_the_primary():
    with replicas.fresh_request(), replicas.reporting():
        assert replicas.aliases() == [] and replicas.read_alias() == "default"


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_reports_read_from_a_real_hot_standby():
    tools = bindir()
    require("PostgreSQL server programs (initdb, pg_ctl, pg_basebackup)", tools is not None)
    standby = Standby(tools)  # type: ignore[arg-type]
    try:
        pair = standby.start(connection.settings_dict)
        env = {
            **os.environ,
            "DATABASE_URL": pair.url(pair.primary_port),
            "DATABASE_REPLICA_URLS": pair.url(pair.standby_port),
            "REDIS_URL": "",
        }
        check = subprocess.run(
            [sys.executable, "-m", "tests.system.replica_check"],
            cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr + standby.log()
        assert "replica check passed" in check.stdout
    finally:
        standby.stop()
