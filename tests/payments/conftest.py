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
