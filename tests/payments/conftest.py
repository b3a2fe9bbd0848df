import pytest

from gasworks.payments.gateways import sandbox


@pytest.fixture(autouse=True)
def _card_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PAYMENTS_CARD_DIR", str(tmp_path / "cards"))


@pytest.fixture
def pay_order():
    """Pay a sandbox order the way the sandbox page does, returning (body, headers)."""

    def pay(payment):
        return sandbox.SandboxGateway().pay(payment)

    return pay


def pytest_collection_modifyitems(config, items):
    """postgres_only tests run in the PostgreSQL pass only: on SQLite, threads just meet its
    whole-database lock, so skip them there rather than fail."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres_only" in item.keywords and "tests/payments" in str(item.fspath):
            item.add_marker(skip)
