"""Alipay and WeChat Pay played offline for the adapter tests: throwaway RSA keys made here, and
notifications and answers signed exactly as the providers sign them (written out from their
documentation, not borrowed from the SDKs under test). The SDKs' HTTP layers are replaced by
recorders that answer with what the test queued."""

import base64
import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gasworks.payments import rsa


def flip_bit(signature: str) -> str:
    """The base64 signature with one bit of its last byte flipped: a forgery certain to differ
    from the genuine one (replacing a character may put back the one that was there)."""
    raw = bytearray(base64.b64decode(signature))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _bare(pem: str) -> str:
    """The base64 body of a PEM, as the providers' consoles hand keys out."""
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


# --- Alipay ---------------------------------------------------------------------------------


@dataclass
class Alipay:
    merchant: rsa.PrivateKey
    provider: rsa.PrivateKey
    app_id: str = "2021000000000001"
    seller_id: str = "2088000000000001"
    requests: list[dict] = field(default_factory=list)
    answers: list[str | Exception] = field(default_factory=list)

    def env(self, monkeypatch):
        monkeypatch.setenv("ALIPAY_APP_ID", self.app_id)
        monkeypatch.setenv("ALIPAY_APP_PRIVATE_KEY", _bare(rsa.private_pem(self.merchant)))
        monkeypatch.setenv("ALIPAY_PUBLIC_KEY", _bare(rsa.public_pem(self.provider)))
        monkeypatch.delenv("ALIPAY_SELLER_ID", raising=False)
        monkeypatch.delenv("ALIPAY_DEBUG", raising=False)

    @staticmethod
    def signing_string(params: dict, request: bool = False) -> bytes:
        """Sorted k=v of the non-empty parameters, without sign (and, in a notification, sign_type)."""
        skip = ("sign",) if request else ("sign", "sign_type")
        pairs = sorted((k, v) for k, v in params.items() if k not in skip and v != "")
        return "&".join(f"{k}={v}" for k, v in pairs).encode()

    def notification(self, key=None, **overrides) -> dict:
        params = {
            "notify_time": "2026-03-01 10:15:00",
            "notify_type": "trade_status_sync",
            "notify_id": "ac05099524730693a8b330c5ecf72da9786",
            "charset": "utf-8",
            "version": "1.0",
            "sign_type": "RSA2",
            "app_id": self.app_id,
            "seller_id": self.seller_id,
            "trade_no": "2026030122001400000000000001",
            "out_trade_no": "GW-unset",
            "trade_status": "TRADE_SUCCESS",
            "total_amount": "88.50",
            "subject": "燃气缴费",
            "body": "",
        }
        params.update(overrides)
        params["sign"] = rsa.sign_b64(key or self.provider, self.signing_string(params))
        return params

    @staticmethod
    def form(params: dict) -> bytes:
        return urlencode(params).encode()

    def answer(self, api: str, payload: dict, key=None) -> None:
        """Queue a synchronous answer: {"<api>_response": {...}, "sign": RSA2 of that object's text}."""
        inner = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        sign = rsa.sign_b64(key or self.provider, inner.encode())
        self.answers.append(f'{{"{api.replace(".", "_")}_response":{inner},"sign":"{sign}"}}')

    def install(self, monkeypatch):
        import alipay

        def urlopen(url, timeout=None):
            parts = urlsplit(url)
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            self.requests.append(
                {"gateway": f"{parts.scheme}://{parts.netloc}{parts.path}", "params": params}
            )
            if not self.answers:
                raise AssertionError(f"unexpected Alipay call {params.get('method')}")
            raw = self.answers.pop(0)
            if isinstance(raw, Exception):
                raise raw
            return type("Answer", (), {"read": lambda _self: raw.encode()})()

        monkeypatch.setattr(alipay, "urlopen", urlopen)

    def request_is_signed(self, params: dict) -> bool:
        try:
            rsa.verify_b64(
                self.merchant.public_key(), self.signing_string(params, request=True), params["sign"]
            )
        except (rsa.SignatureError, KeyError):
            return False
        return True


# --- WeChat Pay -----------------------------------------------------------------------------


@dataclass
class Response:
    status_code: int
    text: str
    headers: dict


@dataclass
class Wechat:
    merchant: rsa.PrivateKey
    provider: rsa.PrivateKey
    mchid: str = "1900000109"
    appid: str = "wxd678efh567hg6787"
    apiv3_key: str = "a12d3924fd499edac8a5efc6b7c8d9e0"  # 32 bytes: AES-256
    public_key_id: str = "PUB_KEY_ID_0119000001092026030100000000"
    serial: str = "444F4864EA9B34415AC2B9E3A4D1F4C8B3D2E1F0"
    requests: list[dict] = field(default_factory=list)
    answers: list[Response | Exception] = field(default_factory=list)

    def env(self, monkeypatch):
        from gasworks.payments.gateways import wechat

        monkeypatch.setenv("WECHATPAY_MCHID", self.mchid)
        monkeypatch.setenv("WECHATPAY_APPID", self.appid)
        monkeypatch.setenv("WECHATPAY_CERT_SERIAL_NO", self.serial)
        monkeypatch.setenv("WECHATPAY_PRIVATE_KEY", rsa.private_pem(self.merchant))
        monkeypatch.setenv("WECHATPAY_APIV3_KEY", self.apiv3_key)
        monkeypatch.setenv("WECHATPAY_PLATFORM_PUBLIC_KEY", _bare(rsa.public_pem(self.provider)))
        monkeypatch.setenv("WECHATPAY_PUBLIC_KEY_ID", self.public_key_id)
        monkeypatch.delenv("WECHATPAY_CERT_DIR", raising=False)
        wechat._client.cache_clear()

    def signed_headers(self, body: str, timestamp=None, key=None, nonce="5K8264ILTKCH16CQ2502SI8ZNMTM67VS"):
        ts = str(int(time.time() if timestamp is None else timestamp))
        message = f"{ts}\n{nonce}\n{body}\n".encode()
        return {
            "Wechatpay-Timestamp": ts,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": rsa.sign_b64(key or self.provider, message),
            "Wechatpay-Serial": self.public_key_id,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    def encrypt(self, resource: dict, apiv3_key=None, nonce="fdasflkja484", aad="transaction") -> dict:
        sealed = AESGCM((apiv3_key or self.apiv3_key).encode()).encrypt(
            nonce.encode(), json.dumps(resource, ensure_ascii=False).encode(), aad.encode()
        )
        return {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(sealed).decode(),
            "associated_data": aad,
            "nonce": nonce,
        }

    def transaction(self, order_no: str, total_fen: int, **overrides) -> dict:
        resource = {
            "mchid": self.mchid,
            "appid": self.appid,
            "out_trade_no": order_no,
            "transaction_id": "4200000000202603010000000001",
            "trade_type": "NATIVE",
            "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功",
            "bank_type": "OTHERS",
            "success_time": "2026-03-01T10:15:00+08:00",
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {
                "total": total_fen,
                "payer_total": total_fen,
                "currency": "CNY",
                "payer_currency": "CNY",
            },
        }
        resource.update(overrides)
        return resource

    def notification(self, resource: dict, timestamp=None, key=None, apiv3_key=None) -> tuple[bytes, dict]:
        body = json.dumps(
            {
                "id": "EV-018c-2026-0301",
                "create_time": "2026-03-01T10:15:01+08:00",
                "resource_type": "encrypt-resource",
                "event_type": "TRANSACTION.SUCCESS",
                "summary": "支付成功",
                "resource": self.encrypt(resource, apiv3_key),
            },
            ensure_ascii=False,
        )
        return body.encode(), self.signed_headers(body, timestamp, key)

    def answer(self, status: int, payload: dict, key=None) -> None:
        """Queue an answer of the API, signed as WeChat Pay signs its answers."""
        text = json.dumps(payload, ensure_ascii=False)
        headers = {"Content-Type": "application/json; charset=utf-8", **self.signed_headers(text, key=key)}
        self.answers.append(Response(status, text, headers))

    def install(self, monkeypatch):
        import wechatpayv3.core

        def call(method):
            def send(url, headers=None, **kwargs):
                self.requests.append(
                    {"method": method, "url": url, "headers": headers, "json": kwargs.get("json")}
                )
                if not self.answers:
                    return Response(404, '{"code":"NOT_FOUND","message":"no answer queued"}', {})
                answer = self.answers.pop(0)
                if isinstance(answer, Exception):
                    raise answer
                return answer

            return send

        fake = type("FakeRequests", (), {m.lower(): staticmethod(call(m)) for m in ("GET", "POST")})
        monkeypatch.setattr(wechatpayv3.core, "requests", fake)

    def request_is_signed(self, request: dict) -> bool:
        """The Authorization header: SHA256withRSA by the merchant key of method, path, time, nonce, body."""
        auth = request["headers"]["Authorization"]
        if not auth.startswith("WECHATPAY2-SHA256-RSA2048 "):
            return False
        fields = dict(re.findall(r'(\w+)="([^"]*)"', auth))
        parts = urlsplit(request["url"])
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = json.dumps(request["json"]) if request["json"] else ""
        message = f"{request['method']}\n{path}\n{fields['timestamp']}\n{fields['nonce_str']}\n{body}\n"
        try:
            rsa.verify_b64(self.merchant.public_key(), message.encode(), fields["signature"])
        except rsa.SignatureError:
            return False
        return fields["mchid"] == self.mchid and fields["serial_no"] == self.serial


# --- both -----------------------------------------------------------------------------------


def post_callback(client, gateway: str, body: bytes, headers: dict, content_type: str):
    return client.post(
        f"/api/v1/payments/callbacks/{gateway}/", data=body, content_type=content_type, headers=headers
    )


def assert_untouched(order) -> None:
    """A refused notification leaves the order pending and writes no event and no money."""
    from gasworks.billing.models import LedgerEntry
    from gasworks.payments.models import GatewayEvent, PaymentStatus

    order.refresh_from_db()
    assert order.status == PaymentStatus.PENDING and order.gateway_txn_id is None
    assert not order.needs_review
    assert LedgerEntry.objects.count() == 0 and GatewayEvent.objects.count() == 0


def assert_refund_refused(payment, by, reason: str) -> None:
    """The gateway refuses a refund: the refund is kept as failed with the gateway's words, and
    nothing is refunded in our books; the amount can be refunded again."""
    from gasworks.billing.models import EntryKind, LedgerEntry
    from gasworks.payments import services
    from gasworks.payments.models import PaymentStatus, RefundStatus

    refund = services.request_refund(payment, "20", "overpaid", by)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and reason in refund.gateway_error
    assert refund.finished_at is not None
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.refunded_amount == 0
    assert services.refund_room(payment) == payment.amount
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 0
