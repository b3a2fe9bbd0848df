import pytest

from gasworks.payments import rsa
from gasworks.payments.gateways import sandbox
from tests.payments.providers import Alipay, Wechat


@pytest.fixture(autouse=True)
def _card_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PAYMENTS_CARD_DIR", str(tmp_path / "cards"))


@pytest.fixture
def pay_order():
    """Pay a sandbox order the way the sandbox page does, returning (body, headers)."""

    def pay(payment):
        return sandbox.SandboxGateway().pay(payment)

    return pay


@pytest.fixture(scope="session")
def keys():
    """Throwaway RSA-2048 pairs: the merchant's, the provider's, and a forger's."""
    return {"merchant": rsa.generate(2048), "provider": rsa.generate(2048), "forger": rsa.generate(2048)}


def _configured(provider, monkeypatch):
    """The provider configured in the environment, its HTTP layer answering what the test queues."""
    provider.env(monkeypatch)
    provider.install(monkeypatch)
    return provider


@pytest.fixture
def alipay(monkeypatch, keys):
    return _configured(Alipay(keys["merchant"], keys["provider"]), monkeypatch)


@pytest.fixture
def wechat(monkeypatch, keys):
    return _configured(Wechat(keys["merchant"], keys["provider"]), monkeypatch)
