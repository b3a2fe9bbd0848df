import io
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from gasworks.accounts.demo import DEMO_USERS
from gasworks.customers.models import Customer
from gasworks.lib import checkdigit

# What benchmark modules (imported by their own tests) set for a local server; a production
# check must not inherit them.
BENCH_OVERRIDES = {"SECURE_SSL_REDIRECT", "SECURE_COOKIES", "ALLOWED_HOSTS", "API_THROTTLE_USER"}


def test_check_deploy_reports_nothing_with_production_settings(tmp_path):
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", *BENCH_OVERRIDES}
        },
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "gas.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "GASWORKS_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_makes_every_role():
    call_command("seed_demo", stdout=io.StringIO())
    customers = Customer.objects.count()
    users = get_user_model().objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Customer.objects.count() == customers >= 200
    assert get_user_model().objects.count() == users
    roles = set(get_user_model().objects.values_list("role", flat=True))
    assert roles >= {role for _u, role, _n in DEMO_USERS}
    assert set(Customer.objects.values_list("category", flat=True)) == {
        "residential",
        "commercial",
        "industrial",
    }
    demo_customer = get_user_model().objects.get(username="customer")
    assert demo_customer.customer is not None


@pytest.mark.django_db
def test_generate_data_writes_valid_customers_fast_paths():
    call_command("generate_data", customers=1200, no_progress=True, stdout=io.StringIO())
    assert Customer.objects.count() == 1200
    sample = Customer.objects.select_related("premises").order_by("?")[:50]
    assert all(checkdigit.is_valid(c.account_no) and c.premises.address for c in sample)
    assert Customer.objects.values("account_no").distinct().count() == 1200
    # New rows after a bulk load still get fresh ids and numbers.
    from tests.factories import make_customer

    fresh = make_customer()
    assert fresh.pk > max(Customer.objects.exclude(pk=fresh.pk).values_list("pk", flat=True))


# One postgres_only test from each place that used to carry its own guard (they skipped silently).
POSTGRES_ONLY = [
    "tests/billing/test_runs_parallel.py::test_it_bills_every_account_once_in_two_processes",
    "tests/metering/test_ingest.py::test_it_keeps_counter_order_for_two_batches_at_once",
    "tests/payments/test_refunds_concurrency.py::test_the_probe_sees_a_held_lock",
    "tests/safety/test_idempotency.py::test_it_makes_one_report_from_parallel_requests_with_one_key",
]


def test_postgres_only_tests_fail_on_sqlite_under_require_services():
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REQUIRE_SERVICES"}},
        "DATABASE_URL": "",
        "REQUIRE_SERVICES": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *POSTGRES_ONLY],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert "4 errors" in result.stdout, result.stdout[-3000:] + result.stderr[-2000:]
    assert result.stdout.count("REQUIRE_SERVICES=1 forbids skipping") >= 4
