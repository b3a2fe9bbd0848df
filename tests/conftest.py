import os

import pytest
from django.core.cache import cache

from tests.factories import make_customer, make_user

# Playwright's sync API runs an event loop in the test thread; the ORM calls made around it are
# still synchronous, so Django's async-safety guard is relaxed for the test process only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config):
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_BROKER_URL = "memory://"
    # The suite pays through the sandbox gateway (turned on explicitly, as on a staging server);
    # tests of a production server without it turn it off (tests/payments/test_sandbox_off.py).
    settings.PAYMENTS_SANDBOX = True


@pytest.fixture(autouse=True, scope="session")
def _no_stray_connections(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end the sessions Django no longer tracks. A browser
    test leaves one open (its last query is the test's own ORM call made while Playwright's sync
    API runs its event loop; Django keeps connections per thread and async context), nothing
    closes it, and PostgreSQL refuses to drop a database in use: test databases piled up."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()  # throttling counters live here
    yield
    cache.clear()


@pytest.fixture
def personas(db):
    """One user per role, plus a customer login bound to its own account and a stranger's account."""
    people = {
        role: make_user(role)
        for role in ("admin", "cashier", "meter_reader", "inspector", "dispatcher", "filler")
    }
    own = make_customer(name="张三")
    people["customer"] = make_user("customer", customer=own)
    people["own_customer"] = own
    people["other_customer"] = make_customer(name="李四")
    return people


@pytest.fixture
def admin_client(client, personas):
    client.force_login(personas["admin"])
    return client
