import os

import pytest
from django.core.cache import cache
from django.utils import translation
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.celery_harness import celery_workers  # noqa: F401 - a fixture for every kill test
from tests.factories import make_customer, make_user
from tests.services import REQUIRED

# Hypothesis's timing checks (a 200 ms deadline per example, "input generation is slow") fail
# whenever the machine is busy, e.g. two test workers on two shared cores: a flake, not a
# finding. The properties are checked as before, just without a clock.
hypothesis_settings.register_profile("gasworks", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("gasworks")

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
    # The dashboard's trend charts arrive in a second request after load. On SQLite the live
    # server's request threads share the test's one in-memory connection, and that request
    # running beside the test's next page could block both; the browser tests that look at
    # the trends turn them on (tests/browser/test_reports_browser_access.py), and
    # tests/reports/test_trends.py tests them through the test client.
    settings.DASHBOARD_TRENDS = False


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


def is_csp_violation(message) -> bool:
    """Chromium reports a blocked inline script, handler or style in the console."""
    return message.type == "error" and "Content Security Policy" in message.text


@pytest.fixture(autouse=True)
def csp_violations(request, monkeypatch):
    """Every browser test fails on a Content-Security-Policy violation: each page a test opens
    (Browser.new_page or BrowserContext.new_page, however the test launched Chromium) has its
    console watched, and what the policy blocked is listed at the end."""
    violations: list[str] = []
    if request.node.get_closest_marker("browser") is None:
        yield violations
        return
    from playwright.sync_api import Browser, BrowserContext

    def watched(new_page):
        def new_watched_page(self, *args, **kwargs):
            page = new_page(self, *args, **kwargs)
            page.on(
                "console",
                lambda m: violations.append(f"{page.url}: {m.text}") if is_csp_violation(m) else None,
            )
            return page

        return new_watched_page

    monkeypatch.setattr(Browser, "new_page", watched(Browser.new_page))
    monkeypatch.setattr(BrowserContext, "new_page", watched(BrowserContext.new_page))
    yield violations
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture(autouse=True)
def _postgres_only(request):
    """@pytest.mark.postgres_only tests need PostgreSQL (real row locks under concurrency, worker
    connections that see the test data, its own queries). On another database they are skipped,
    or fail under REQUIRE_SERVICES=1 like any test whose service is missing. `make test` leaves
    them out of its SQLite pass (-m "not postgres_only") and runs them in the PostgreSQL pass."""
    if request.node.get_closest_marker("postgres_only"):
        from django.db import connection

        if connection.vendor == "postgresql":
            return
        if REQUIRED:
            pytest.fail(
                f"a postgres_only test on {connection.vendor}, and REQUIRE_SERVICES=1 forbids skipping",
                pytrace=False,
            )
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...)")


@pytest.fixture(autouse=True)
def _default_language():
    """A test that activates a language (a service called with Chinese on, a view run in-process)
    must not leave it for the next one: in random order that made labels Chinese in later tests."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clean_cache(monkeypatch):
    cache.clear()  # throttling counters live here
    # The stored parameters are cached for a few seconds; a test that compares the queries of
    # two requests made more than that apart on a busy machine saw one more (the reload). In
    # tests the copy lives until a change drops it (as every save does) or the test ends.
    from gasworks.system import parameters

    monkeypatch.setattr(parameters, "CACHE_SECONDS", None)
    yield
    cache.clear()


@pytest.fixture
def personas(db):
    """One user per role, plus a customer login bound to its own account and a stranger's account."""
    people = {
        role: make_user(role)
        for role in ("admin", "manager", "cashier", "meter_reader", "inspector", "dispatcher", "filler")
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
