"""The RSA helpers (on `cryptography`) that the sandbox signs with and that read the gateways'
configured keys; cross-checked against the openssl command line when present. The adapters'
notification checks are in test_alipay.py and test_wechat.py."""

import base64
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from gasworks.payments import rsa
from gasworks.payments.gateways import config
from gasworks.payments.gateways.base import GatewayError
from tests.services import require


@pytest.fixture(scope="module")
def key():
    return rsa.generate(2048)


def _same(a, b) -> bool:
    return a.public_numbers() == b.public_numbers()


def test_it_signs_and_verifies_and_refuses_a_changed_message(key, keys):
    signature = rsa.sign_b64(key, b"message")
    rsa.verify_b64(key.public_key(), b"message", signature)
    with pytest.raises(rsa.SignatureError):
        rsa.verify_b64(key.public_key(), b"messagE", signature)
    with pytest.raises(rsa.SignatureError):
        rsa.verify_b64(keys["forger"].public_key(), b"message", signature)
    with pytest.raises(rsa.SignatureError):
        rsa.verify_b64(key.public_key(), b"message", "not base64!")


def test_it_reads_keys_in_the_forms_gateways_hand_out(key):
    public = key.public_key()
    assert _same(rsa.load_public(rsa.public_pem(key)), public)
    assert rsa.load_private(rsa.private_pem(key)).private_numbers() == key.private_numbers()
    # Bare base64 bodies, as Alipay's console hands out keys; PKCS#1 as older tools write them.
    assert _same(rsa.load_public("".join(rsa.public_pem(public).splitlines()[1:-1])), public)
    pkcs1 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert rsa.load_private(base64.b64encode(pkcs1).decode()).private_numbers() == key.private_numbers()
    pkcs1_pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()
    assert _same(rsa.load_public(pkcs1_pem), public)
    for junk in ("", "not a key", rsa.public_pem(key).replace("M", "N", 3)):
        with pytest.raises(rsa.SignatureError):
            rsa.load_public(junk)
    with pytest.raises(rsa.SignatureError):
        rsa.load_private(rsa.public_pem(key))


def test_it_agrees_with_openssl(tmp_path, key):
    require("the openssl command", bool(shutil.which("openssl")))
    (tmp_path / "k.pem").write_text(rsa.private_pem(key))
    (tmp_path / "m").write_bytes(b"gasworks")
    subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", tmp_path / "k.pem", "-out", tmp_path / "sig", tmp_path / "m"],
        check=True,
    )
    assert base64.b64encode((tmp_path / "sig").read_bytes()).decode() == rsa.sign_b64(key, b"gasworks")
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", tmp_path / "o.pem", "2048"],
        check=True,
        capture_output=True,
    )
    theirs = rsa.load_private((tmp_path / "o.pem").read_text())  # PKCS#1 "RSA PRIVATE KEY"
    rsa.verify_b64(theirs.public_key(), b"x", rsa.sign_b64(theirs, b"x"))


def test_configured_keys_are_normalised_or_refused_clearly(key, monkeypatch, tmp_path):
    monkeypatch.setenv("GW_TEST_PUBLIC", "".join(rsa.public_pem(key).splitlines()[1:-1]))
    assert config.public_key_pem("GW_TEST_PUBLIC") == rsa.public_pem(key)
    (tmp_path / "k.pem").write_text(rsa.private_pem(key) + "\n\n")
    monkeypatch.setenv("GW_TEST_PRIVATE_FILE", str(tmp_path / "k.pem"))
    assert config.private_key_pem("GW_TEST_PRIVATE") == rsa.private_pem(key)
    assert config.public_key_pem("GW_TEST_UNSET", required=False) == ""
    monkeypatch.setenv("GW_TEST_BAD", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A")
    for read in (config.public_key_pem, config.private_key_pem):
        with pytest.raises(GatewayError) as err:
            read("GW_TEST_BAD")
        assert err.value.code == "gateway_not_configured" and "GW_TEST_BAD" in str(err.value.message)
