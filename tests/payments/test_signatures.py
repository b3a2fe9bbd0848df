"""Offline checks of the gateway adapters' signature verification, with notifications signed in
the test by throwaway keys (and cross-checked against the openssl command line when present)."""

import base64
import json
import shutil
import subprocess
import time
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from gasworks.payments import rsa
from gasworks.payments.gateways.alipay import AlipayGateway, signing_string
from gasworks.payments.gateways.base import BadNotification
from gasworks.payments.gateways.wechat import WechatGateway, signing_message
from tests.services import require


@pytest.fixture(scope="module")
def key():
    return rsa.generate(1024)


def test_it_signs_and_verifies_and_refuses_a_changed_message(key):
    signature = rsa.sign(key, b"message")
    rsa.verify(key.public(), b"message", signature)
    with pytest.raises(rsa.SignatureError):
        rsa.verify(key.public(), b"messagE", signature)
    with pytest.raises(rsa.SignatureError):
        rsa.verify(rsa.generate(1024).public(), b"message", signature)


def test_it_round_trips_pem(key):
    assert rsa.load_private(rsa.private_pem(key)) == key
    assert rsa.load_public(rsa.public_pem(key.public())) == key.public()
    # Bare base64 body, as gateways' consoles hand out public keys.
    body = "".join(rsa.public_pem(key.public()).splitlines()[1:-1])
    assert rsa.load_public(body) == key.public()


def test_it_agrees_with_openssl(tmp_path, key):
    require("the openssl command", bool(shutil.which("openssl")))
    (tmp_path / "k.pem").write_text(rsa.private_pem(key))
    (tmp_path / "m").write_bytes(b"gasworks")
    subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", tmp_path / "k.pem", "-out", tmp_path / "sig", tmp_path / "m"],
        check=True,
    )
    assert (tmp_path / "sig").read_bytes() == rsa.sign(key, b"gasworks")
    subprocess.run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-out",
            tmp_path / "o.pem",
        ],
        check=True,
        capture_output=True,
    )
    theirs = rsa.load_private((tmp_path / "o.pem").read_text())  # PKCS#8
    rsa.verify(theirs.public(), b"x", rsa.sign(theirs, b"x"))


def _alipay_params(key, **overrides):
    params = {
        "app_id": "2021000000000001",
        "notify_type": "trade_status_sync",
        "out_trade_no": "GW20260301ABC",
        "trade_no": "2026030122001400000000000001",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "88.50",
        "charset": "utf-8",
        "sign_type": "RSA2",
    }
    params.update(overrides)
    params["sign"] = rsa.sign_b64(key, signing_string(params))
    return params


@pytest.fixture
def alipay_env(monkeypatch, key):
    monkeypatch.setenv("ALIPAY_APP_ID", "2021000000000001")
    monkeypatch.setenv("ALIPAY_PUBLIC_KEY", rsa.public_pem(key.public()))


def test_it_verifies_an_alipay_rsa2_notification(alipay_env, key):
    params = _alipay_params(key)
    note = AlipayGateway().verify_callback(urlencode(params).encode(), {})
    assert note.order_no == "GW20260301ABC" and note.transaction_id.startswith("2026")
    assert note.amount == Decimal("88.50") and note.paid and note.currency == "CNY"


def test_it_refuses_a_tampered_alipay_notification(alipay_env, key):
    params = _alipay_params(key)
    params["total_amount"] = "8850.00"
    with pytest.raises(BadNotification):
        AlipayGateway().verify_callback(urlencode(params).encode(), {})


def test_it_refuses_an_alipay_notification_for_another_app(alipay_env, key):
    params = _alipay_params(key, app_id="2021999999999999")
    with pytest.raises(BadNotification) as err:
        AlipayGateway().verify_callback(urlencode(params).encode(), {})
    assert err.value.code == "wrong_merchant"


def _wechat(key, resource, timestamp=None):
    body = json.dumps(
        {
            "id": "EV-1",
            "event_type": "TRANSACTION.SUCCESS",
            "resource_type": "encrypt-resource",
            "resource": {
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(json.dumps(resource).encode()).decode(),
                "nonce": "n0nce",
                "associated_data": "transaction",
            },
        }
    ).encode()
    ts, nonce = str(int(timestamp or time.time())), "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
    headers = {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": rsa.sign_b64(key, signing_message(ts, nonce, body)),
        "Wechatpay-Serial": "PUB_KEY_ID_0001",
    }
    return body, headers


RESOURCE = {
    "out_trade_no": "GW20260301WX",
    "transaction_id": "4200000000202603010000000001",
    "trade_state": "SUCCESS",
    "amount": {"total": 8850, "payer_total": 8850, "currency": "CNY"},
}


@pytest.fixture
def wechat(monkeypatch, key):
    monkeypatch.setenv("WECHATPAY_PLATFORM_PUBLIC_KEY", rsa.public_pem(key.public()))
    gateway = WechatGateway()
    # AES-GCM decryption needs `cryptography` (the SDK's dependency, not installed here); the test
    # stands in a decoder for the envelope and checks everything around it.
    monkeypatch.setattr(
        gateway, "decrypt", lambda resource: json.loads(base64.b64decode(resource["ciphertext"]))
    )
    return gateway


def test_it_verifies_a_wechat_v3_notification(wechat, key):
    note = wechat.verify_callback(*_wechat(key, RESOURCE))
    assert note.order_no == "GW20260301WX" and note.amount == Decimal("88.50") and note.paid


def test_it_refuses_a_tampered_wechat_body(wechat, key):
    body, headers = _wechat(key, RESOURCE)
    with pytest.raises(BadNotification):
        wechat.verify_callback(body.replace(b"EV-1", b"EV-2"), headers)


def test_it_refuses_a_replayed_wechat_notification(wechat, key):
    body, headers = _wechat(key, RESOURCE, timestamp=time.time() - 3600)
    with pytest.raises(BadNotification):
        wechat.verify_callback(body, headers)


def test_it_reports_a_missing_sdk_clearly(monkeypatch):
    from gasworks.payments.gateways.base import GatewayError

    monkeypatch.setenv("ALIPAY_APP_ID", "x")
    with pytest.raises(GatewayError) as err:
        AlipayGateway()._client()
    assert err.value.code in ("gateway_sdk_missing", "gateway_not_configured")
