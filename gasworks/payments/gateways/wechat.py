"""WeChat Pay (微信支付) API v3, Native (QR code) payments, through the maintained SDK `wechatpayv3`
(imported lazily). A notification is verified here: the Wechatpay-Signature header is a
SHA256withRSA signature of "timestamp\\nnonce\\nbody\\n" by the WeChat Pay platform key, and the
timestamp must be recent (replays refused). The resource is then decrypted (AEAD_AES_256_GCM with
the APIv3 key; needs the `cryptography` package, a dependency of the SDK).

Environment: WECHATPAY_MCHID, WECHATPAY_APPID, WECHATPAY_CERT_SERIAL_NO, WECHATPAY_APIV3_KEY,
WECHATPAY_PRIVATE_KEY(_FILE), WECHATPAY_PLATFORM_PUBLIC_KEY(_FILE), WECHATPAY_PUBLIC_KEY_ID."""

import base64
import json
import time
from collections.abc import Mapping
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from gasworks.lib.money import round_money
from gasworks.payments import rsa
from gasworks.payments.gateways import config
from gasworks.payments.gateways.base import Ack, BadNotification, Gateway, GatewayError, Notification

MAX_SKEW_SECONDS = 300


def signing_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def _fen(amount: Decimal) -> int:
    return int(round_money(amount) * 100)


class WechatGateway(Gateway):
    code = "wechat"
    label = _("WeChat Pay")

    def _client(self, notify_url: str | None = None):
        try:
            from wechatpayv3 import WeChatPay, WeChatPayType
        except ImportError as exc:
            raise config.sdk_missing("wechatpayv3") from exc
        return WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=config.value("WECHATPAY_MCHID"),
            private_key=config.value("WECHATPAY_PRIVATE_KEY"),
            cert_serial_no=config.value("WECHATPAY_CERT_SERIAL_NO"),
            appid=config.value("WECHATPAY_APPID"),
            apiv3_key=config.value("WECHATPAY_APIV3_KEY"),
            notify_url=notify_url,
            public_key=config.value("WECHATPAY_PLATFORM_PUBLIC_KEY", required=False) or None,
            public_key_id=config.value("WECHATPAY_PUBLIC_KEY_ID", required=False) or None,
        )

    def start(self, payment, notify_url: str, return_url: str) -> str:
        code, message = self._client(notify_url).pay(
            description=f"Gas payment {payment.order_no}",
            out_trade_no=payment.order_no,
            amount={"total": _fen(payment.amount), "currency": payment.currency},
            notify_url=notify_url,
        )
        if code != 200:
            raise GatewayError("gateway_refused", str(message))
        return json.loads(message)["code_url"]  # weixin://... shown as a QR code

    def verify_callback(
        self, body: bytes, headers: Mapping[str, str], now: float | None = None
    ) -> Notification:
        lower = {k.lower(): v for k, v in headers.items()}
        timestamp = lower.get("wechatpay-timestamp", "")
        nonce = lower.get("wechatpay-nonce", "")
        try:
            key = rsa.load_public(config.value("WECHATPAY_PLATFORM_PUBLIC_KEY"))
            rsa.verify_b64(key, signing_message(timestamp, nonce, body), lower.get("wechatpay-signature", ""))
            if abs((now or time.time()) - int(timestamp)) > MAX_SKEW_SECONDS:
                raise BadNotification("stale_notification", _("The notification is too old (replay?)."))
        except (rsa.SignatureError, ValueError) as exc:
            raise BadNotification("bad_signature", _("The notification signature is not valid.")) from exc
        try:
            envelope = json.loads(body)
            resource = self.decrypt(envelope["resource"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BadNotification("bad_notification", _("The notification is malformed.")) from exc
        return self._notification(resource)

    def decrypt(self, resource: Mapping) -> dict:
        if resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise BadNotification("bad_notification", _("Unsupported notification encryption."))
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError as exc:
            raise config.sdk_missing("cryptography") from exc
        plain = AESGCM(config.value("WECHATPAY_APIV3_KEY").encode()).decrypt(
            resource["nonce"].encode(),
            base64.b64decode(resource["ciphertext"]),
            (resource.get("associated_data") or "").encode(),
        )
        return json.loads(plain)

    @staticmethod
    def _notification(resource: Mapping) -> Notification:
        try:
            amount = resource["amount"]
            return Notification(
                order_no=str(resource["out_trade_no"]),
                transaction_id=str(resource["transaction_id"]),
                amount=Decimal(int(amount["total"])) / 100,
                currency=str(amount.get("currency", "CNY")),
                paid=resource.get("trade_state") == "SUCCESS",
                raw=dict(resource),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise BadNotification("bad_notification", _("The notification is malformed.")) from exc

    def ack(self, accepted: bool) -> Ack:
        body = {"code": "SUCCESS", "message": "OK"} if accepted else {"code": "FAIL", "message": "rejected"}
        return Ack(json.dumps(body), "application/json")

    def query(self, payment) -> Notification | None:
        code, message = self._client().query(out_trade_no=payment.order_no)
        if code != 200:
            return None
        resource = json.loads(message)
        if resource.get("trade_state") not in ("SUCCESS", "CLOSED", "PAYERROR"):
            return None
        return self._notification(resource)

    def refund(self, payment, amount: Decimal, refund_ref: str) -> str:
        code, message = self._client().refund(
            out_refund_no=refund_ref,
            amount={"refund": _fen(amount), "total": _fen(payment.amount), "currency": payment.currency},
            transaction_id=payment.gateway_txn_id,
        )
        if code not in (200, 201):
            raise GatewayError("gateway_refund_failed", str(message))
        return json.loads(message).get("refund_id", refund_ref)
