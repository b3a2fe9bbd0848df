"""RSA signatures as the payment gateways use them (PKCS#1 v1.5 with SHA-256: Alipay's "RSA2",
WeChat Pay's "SHA256withRSA"), on the `cryptography` library. The sandbox gateway signs its
notifications with these; the Alipay and WeChat adapters use them to read configured keys (PEM,
or the bare base64 body that the providers' consoles hand out) before giving them to the SDKs."""

import base64
import binascii

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa as _rsa

PrivateKey = _rsa.RSAPrivateKey
PublicKey = _rsa.RSAPublicKey


class SignatureError(ValueError):
    pass


def generate(bits: int = 2048) -> PrivateKey:
    return _rsa.generate_private_key(public_exponent=65537, key_size=bits)


def sign(key: PrivateKey, message: bytes) -> bytes:
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def verify(key: PublicKey, message: bytes, signature: bytes) -> None:
    """Raise SignatureError unless signature is a valid SHA256withRSA signature of message."""
    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureError("signature does not match") from exc


def sign_b64(key: PrivateKey, message: bytes) -> str:
    return base64.b64encode(sign(key, message)).decode()


def verify_b64(key: PublicKey, message: bytes, signature_b64: str) -> None:
    try:
        raw = base64.b64decode(signature_b64, validate=True)
    except (ValueError, TypeError) as exc:
        raise SignatureError("signature is not base64") from exc
    verify(key, message, raw)


# --- keys as text ---------------------------------------------------------------------------


def public_pem(key: PublicKey | PrivateKey) -> str:
    """SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY") of a public key, or of a private key's."""
    public = key.public_key() if isinstance(key, _rsa.RSAPrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def private_pem(key: PrivateKey) -> str:
    """Unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY")."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _der(text: str) -> bytes | None:
    """The DER of a bare base64 key body, None when text is PEM."""
    text = text.strip()
    if text.startswith("-----BEGIN "):
        return None
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise SignatureError("not a PEM or base64 key") from exc


def load_public(text: str) -> PublicKey:
    """A public key from PEM or bare base64 DER (SubjectPublicKeyInfo or PKCS#1)."""
    try:
        der = _der(text)
        if der is not None:
            key = serialization.load_der_public_key(der)
        else:
            key = serialization.load_pem_public_key(text.strip().encode())
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SignatureError("not an RSA public key") from exc
    if not isinstance(key, _rsa.RSAPublicKey):
        raise SignatureError("not an RSA public key")
    return key


def load_private(text: str) -> PrivateKey:
    """An unencrypted private key from PEM or bare base64 DER (PKCS#8 or PKCS#1)."""
    try:
        der = _der(text)
        if der is not None:
            key = serialization.load_der_private_key(der, password=None)
        else:
            key = serialization.load_pem_private_key(text.strip().encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SignatureError("not an RSA private key") from exc
    if not isinstance(key, _rsa.RSAPrivateKey):
        raise SignatureError("not an RSA private key")
    return key
