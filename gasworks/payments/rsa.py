"""RSA signatures (PKCS#1 v1.5 with SHA-256, "RSA2" / "SHA256withRSA"), used to sign and verify
gateway notifications. The `cryptography` package is used when it is installed; otherwise a small
pure-Python implementation of the same standard (RFC 8017 §8.2, §9.2) does the work, so the
sandbox and the offline tests need no native dependency. Keys travel as standard PEM
(SubjectPublicKeyInfo for public keys, PKCS#1 or PKCS#8 for private keys)."""

import base64
import hashlib
import secrets
from dataclasses import dataclass

# DigestInfo prefix of SHA-256 (RFC 8017 §9.2 note 1).
_SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
_RSA_OID = bytes.fromhex("06092a864886f70d0101010500")  # rsaEncryption OID + NULL


class SignatureError(ValueError):
    pass


@dataclass(frozen=True)
class PublicKey:
    n: int
    e: int

    @property
    def size(self) -> int:
        return (self.n.bit_length() + 7) // 8


@dataclass(frozen=True)
class PrivateKey:
    n: int
    e: int
    d: int
    p: int
    q: int

    def public(self) -> PublicKey:
        return PublicKey(self.n, self.e)


# --- key generation -------------------------------------------------------------------------


def _probably_prime(n: int, rounds: int = 40) -> bool:
    if n < 4:
        return n in (2, 3)
    for small in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % small == 0:
            return n == small
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(rounds):
        a = secrets.randbelow(n - 3) + 2
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, e: int) -> int:
    while True:
        candidate = secrets.randbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if candidate % e != 1 and _probably_prime(candidate):
            return candidate


def generate(bits: int = 2048) -> PrivateKey:
    e = 65537
    while True:
        p, q = _prime(bits // 2, e), _prime(bits // 2, e)
        n = p * q
        if p != q and n.bit_length() == bits:
            d = pow(e, -1, (p - 1) * (q - 1))
            return PrivateKey(n, e, d, p, q)


# --- sign / verify --------------------------------------------------------------------------


def _encoded_digest(message: bytes, size: int) -> int:
    t = _SHA256_PREFIX + hashlib.sha256(message).digest()
    if size < len(t) + 11:
        raise SignatureError("key too short")
    return int.from_bytes(b"\x00\x01" + b"\xff" * (size - len(t) - 3) + b"\x00" + t, "big")


def sign(key: PrivateKey, message: bytes) -> bytes:
    size = (key.n.bit_length() + 7) // 8
    m = _encoded_digest(message, size)
    # CRT for speed: s = m^d mod n computed mod p and mod q.
    dp, dq, qinv = key.d % (key.p - 1), key.d % (key.q - 1), pow(key.q, -1, key.p)
    s1, s2 = pow(m, dp, key.p), pow(m, dq, key.q)
    s = s2 + key.q * ((qinv * (s1 - s2)) % key.p)
    return s.to_bytes(size, "big")


def verify(key: PublicKey, message: bytes, signature: bytes) -> None:
    """Raise SignatureError unless signature is a valid SHA256withRSA signature of message."""
    if len(signature) != key.size:
        raise SignatureError("signature length does not match the key")
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        raise SignatureError("signature out of range")
    expected = _encoded_digest(message, key.size)
    if not secrets.compare_digest(
        pow(s, key.e, key.n).to_bytes(key.size, "big"), expected.to_bytes(key.size, "big")
    ):
        raise SignatureError("signature does not match")


def sign_b64(key: PrivateKey, message: bytes) -> str:
    return base64.b64encode(sign(key, message)).decode()


def verify_b64(key: PublicKey, message: bytes, signature_b64: str) -> None:
    try:
        raw = base64.b64decode(signature_b64, validate=True)
    except (ValueError, TypeError) as exc:
        raise SignatureError("signature is not base64") from exc
    verify(key, message, raw)


# --- DER / PEM ------------------------------------------------------------------------------


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


def _int(value: int) -> bytes:
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")  # leading 0 keeps it positive
    return _tlv(0x02, raw)


def _read(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """One TLV at pos: (tag, body, next position)."""
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    return tag, data[pos : pos + length], pos + length


def _sequence(body: bytes) -> list[tuple[int, bytes]]:
    items, pos = [], 0
    while pos < len(body):
        tag, value, pos = _read(body, pos)
        items.append((tag, value))
    return items


def _pem(label: str, der: bytes) -> str:
    b64 = base64.b64encode(der).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _unpem(text: str) -> tuple[str, bytes]:
    text = text.strip()
    if not text.startswith("-----BEGIN "):
        # Gateways often hand out the bare base64 body of a public key.
        return "PUBLIC KEY", base64.b64decode("".join(text.split()))
    label = text.split("-----")[1][len("BEGIN ") :]
    body = "".join(line for line in text.splitlines() if not line.startswith("-----"))
    return label, base64.b64decode(body)


def public_pem(key: PublicKey) -> str:
    rsa_key = _tlv(0x30, _int(key.n) + _int(key.e))
    spki = _tlv(0x30, _tlv(0x30, _RSA_OID) + _tlv(0x03, b"\x00" + rsa_key))
    return _pem("PUBLIC KEY", spki)


def private_pem(key: PrivateKey) -> str:
    d = key.d
    body = b"".join(
        _int(v)
        for v in (0, key.n, key.e, d, key.p, key.q, d % (key.p - 1), d % (key.q - 1), pow(key.q, -1, key.p))
    )
    return _pem("RSA PRIVATE KEY", _tlv(0x30, body))


def load_public(text: str) -> PublicKey:
    try:
        label, der = _unpem(text)
        _tag, body, _end = _read(der, 0)
        items = _sequence(body)
        if label == "PUBLIC KEY":  # SubjectPublicKeyInfo -> BIT STRING -> RSAPublicKey
            _tag, body, _end = _read(items[1][1][1:], 0)
            items = _sequence(body)
        return PublicKey(int.from_bytes(items[0][1], "big"), int.from_bytes(items[1][1], "big"))
    except (IndexError, ValueError) as exc:
        raise SignatureError("not an RSA public key") from exc


def load_private(text: str) -> PrivateKey:
    try:
        label, der = _unpem(text)
        _tag, body, _end = _read(der, 0)
        items = _sequence(body)
        if label == "PRIVATE KEY":  # PKCS#8 wraps the PKCS#1 key in an OCTET STRING
            _tag, body, _end = _read(items[2][1], 0)
            items = _sequence(body)
        n, e, d, p, q = (int.from_bytes(items[i][1], "big") for i in range(1, 6))
        return PrivateKey(n, e, d, p, q)
    except (IndexError, ValueError) as exc:
        raise SignatureError("not an RSA private key") from exc
