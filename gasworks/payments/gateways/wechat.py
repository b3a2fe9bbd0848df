"""WeChat Pay (微信支付) API v3, Native (QR code) payments, through the maintained SDK `wechatpayv3`.
The SDK signs every request with the merchant's API key, checks the signature of every answer,
and handles notifications (`WeChatPay.callback`): the Wechatpay-Signature header is a
SHA256withRSA signature of "timestamp\\nnonce\\nbody\\n" by the WeChat Pay key that
Wechatpay-Serial names, and the resource is decrypted with the APIv3 key (AEAD_AES_256_GCM).
Around that this adapter refuses a stale timestamp (a replay) and a notification for another
merchant or app; the order and amount are checked against our books by services.settle.

WeChat Pay's key is either its public key (WECHATPAY_PLATFORM_PUBLIC_KEY with
WECHATPAY_PUBLIC_KEY_ID, the current scheme) or, when that is unset, its platform certificates,
which the SDK downloads (kept in WECHATPAY_CERT_DIR when set). The SDK is imported where WeChat
Pay is called, and one client is kept per configuration (a certificate download per call would be
slow).

Environment: WECHATPAY_MCHID, WECHATPAY_APPID, WECHATPAY_CERT_SERIAL_NO (the merchant API
certificate's serial), WECHATPAY_PRIVATE_KEY(_FILE) (its private key, apiclient_key.pem),
WECHATPAY_APIV3_KEY, WECHATPAY_PLATFORM_PUBLIC_KEY(_FILE) and WECHATPAY_PUBLIC_KEY_ID, or
WECHATPAY_CERT_DIR."""

import functools
import json
import time
from collections.abc import Mapping
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from gasworks.lib import safejson
from gasworks.lib.money import round_money
from gasworks.payments.gateways import config
from gasworks.payments.gateways.base import (
    Ack,
    BadNotification,
    Gateway,
    GatewayError,
    Notification,
    RefundAnswer,
    bad_answer,
    busy,
    order_expires_at,
    refused,
    unreachable,
)

MAX_SKEW_SECONDS = 300
# The notification headers, as the SDK looks them up.
HEADERS = (
    "Wechatpay-Signature",
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Serial",
    "Wechatpay-Signature-Type",
)
FINAL = {"SUCCESS", "CLOSED", "REVOKED", "PAYERROR"}  # NOTPAY, USERPAYING: no outcome yet
RETRY_CODES = {"SYSTEM_ERROR", "FREQUENCY_LIMITED"}  # refund errors that ask for the same request again
WECHAT_TIME = ZoneInfo("Asia/Shanghai")


def _fen(amount: Decimal) -> int:
    return int(round_money(amount) * 100)


@functools.lru_cache(maxsize=4)
def _client(mchid, appid, serial, private_key, apiv3_key, public_key, public_key_id, cert_dir):
    from wechatpayv3 import WeChatPay, WeChatPayType

    try:
        return WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=mchid,
            private_key=private_key,
            cert_serial_no=serial,
            appid=appid,
            apiv3_key=apiv3_key,
            cert_dir=cert_dir,
            public_key=public_key,
            public_key_id=public_key_id,
            timeout=(10, 30),
        )
    except Exception as exc:  # the SDK raises bare Exception: no platform certificate, key id missing
        raise GatewayError(
            "gateway_not_configured", _("WeChat Pay could not start: %(why)s") % {"why": exc}
        ) from exc


class WechatGateway(Gateway):
    code = "wechat"
    label = _("WeChat Pay")
    required_settings = (
        "WECHATPAY_MCHID",
        "WECHATPAY_APPID",
        "WECHATPAY_CERT_SERIAL_NO",
        "WECHATPAY_PRIVATE_KEY",
        "WECHATPAY_APIV3_KEY",
    )
    shows_qr_code = True

    def _client(self):
        public_key = config.public_key_pem("WECHATPAY_PLATFORM_PUBLIC_KEY", required=False)
        return _client(
            config.value("WECHATPAY_MCHID"),
            config.value("WECHATPAY_APPID"),
            config.value("WECHATPAY_CERT_SERIAL_NO"),
            config.private_key_pem("WECHATPAY_PRIVATE_KEY"),
            config.value("WECHATPAY_APIV3_KEY"),
            public_key or None,
            config.value("WECHATPAY_PUBLIC_KEY_ID", required=bool(public_key)) or None,
            config.value("WECHATPAY_CERT_DIR", required=False) or None,
        )

    def _call(self, api: str, **kwargs) -> tuple[int, dict]:
        """One API call through the SDK: (HTTP status, the answer's JSON)."""
        import requests

        client = self._client()
        try:
            status, text = getattr(client, api)(**kwargs)
        except requests.RequestException as exc:
            raise unreachable() from exc
        except Exception as exc:  # the SDK raises bare Exception, e.g. for an answer not signed by WeChat
            raise bad_answer() from exc
        try:
            return status, safejson.loads(text) if text else {}
        except (TypeError, ValueError):
            return status, {}

    def start(self, payment, notify_url: str, return_url: str) -> str:
        status, answer = self._call(
            "pay",
            description=f"Gas payment {payment.order_no}",
            out_trade_no=payment.order_no,
            amount={"total": _fen(payment.amount), "currency": payment.currency},
            notify_url=notify_url,
            time_expire=order_expires_at(payment).astimezone(WECHAT_TIME).isoformat(timespec="seconds"),
        )
        if status != 200 or "code_url" not in answer:
            raise refused(answer.get("message") or status)
        return answer["code_url"]  # weixin://wxpay/bizpayurl?pr=…, shown as a QR code

    def verify_callback(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        lower = {k.lower(): v for k, v in headers.items()}
        sdk_headers = {name: lower.get(name.lower(), "") for name in HEADERS}
        client = self._client()
        try:
            data = client.callback(sdk_headers, body)
        except Exception:  # the SDK raises bare Exception for a signature type or algorithm it lacks
            data = None
        if not data:  # the SDK answers None for a bad signature or a resource it cannot decrypt
            raise BadNotification(
                "bad_signature",
                _("The notification signature is not valid, or it cannot be decrypted with our APIv3 key."),
            )
        # The timestamp is signed: an old one is a replay of a genuine notification.
        try:
            age = abs(time.time() - int(sdk_headers["Wechatpay-Timestamp"]))
        except ValueError:
            age = float("inf")
        if age > MAX_SKEW_SECONDS:
            raise BadNotification("stale_notification", _("The notification is too old (replay?)."))
        resource = data.get("resource")
        if not isinstance(resource, dict):
            raise BadNotification("bad_notification", _("The notification is malformed."))
        if resource.get("mchid") != config.value("WECHATPAY_MCHID") or resource.get("appid") != config.value(
            "WECHATPAY_APPID"
        ):
            raise BadNotification("wrong_merchant", _("The notification is for another merchant."))
        return self._notification(resource)

    @staticmethod
    def _notification(resource: Mapping) -> Notification:
        paid = resource.get("trade_state") == "SUCCESS"
        try:
            amount = resource.get("amount") or {}
            # An unpaid outcome (closed, payment error) may come without a transaction or amount.
            txn = resource["transaction_id"] if paid else resource.get("transaction_id", "")
            total = amount["total"] if paid else amount.get("total", 0)
            return Notification(
                order_no=str(resource["out_trade_no"]),
                transaction_id=str(txn),
                amount=Decimal(int(total)) / 100,
                currency=str(amount.get("currency", "CNY")),
                paid=paid,
                raw=dict(resource),
            )
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise BadNotification("bad_notification", _("The notification is malformed.")) from exc

    def ack(self, accepted: bool) -> Ack:
        body = {"code": "SUCCESS", "message": "OK"} if accepted else {"code": "FAIL", "message": "rejected"}
        return Ack(json.dumps(body), "application/json")

    def query(self, payment) -> Notification | None:
        status, answer = self._call("query", out_trade_no=payment.order_no)
        if status == 404 and answer.get("code") == "ORDER_NOT_EXIST":
            return None
        if status != 200:
            raise refused(answer.get("message") or status)
        if answer.get("trade_state") not in FINAL:
            return None
        return self._notification(answer)

    def refund(self, payment, amount: Decimal, refund_ref: str) -> RefundAnswer:
        status, answer = self._call(
            "refund",
            out_refund_no=refund_ref,  # WeChat's key for this refund: a retry refunds once
            amount={"refund": _fen(amount), "total": _fen(payment.amount), "currency": payment.currency},
            transaction_id=payment.gateway_txn_id,
            out_trade_no=payment.order_no,
        )
        if status == 200 and answer.get("refund_id"):
            return self._refund_answer(answer)
        why = str(answer.get("message") or status)
        if status >= 500 or status == 429 or answer.get("code") in RETRY_CODES:
            raise busy(why)  # SYSTEM_ERROR, FREQUENCY_LIMITED: send the same refund again later
        return RefundAnswer(RefundAnswer.FAILED, message=why)

    def refund_status(self, payment, amount: Decimal, refund_ref: str) -> RefundAnswer | None:
        status, answer = self._call("query_refund", out_refund_no=refund_ref)
        if status == 404 and answer.get("code") == "RESOURCE_NOT_EXISTS":  # WeChat Pay never took it
            return None
        if status != 200 or not answer.get("refund_id"):
            raise busy(answer.get("message") or status)
        return self._refund_answer(answer)

    @staticmethod
    def _refund_answer(answer: Mapping) -> RefundAnswer:
        """WeChat Pay refunds asynchronously: SUCCESS is done, PROCESSING not yet, CLOSED refused;
        ABNORMAL (the customer's card refused the money) waits for the merchant to act on WeChat
        Pay's merchant platform, so it stays pending with WeChat's words kept."""
        refund_id, state = str(answer["refund_id"]), answer.get("status")
        if state == "SUCCESS":
            return RefundAnswer(RefundAnswer.DONE, refund_id)
        if state == "CLOSED":
            return RefundAnswer(RefundAnswer.FAILED, refund_id, str(_("WeChat Pay closed the refund.")))
        if state == "ABNORMAL":
            note = _(
                "The refund could not reach the customer's account; finish it on WeChat Pay's merchant platform."
            )
            return RefundAnswer(RefundAnswer.PENDING, refund_id, str(note))
        return RefundAnswer(RefundAnswer.PENDING, refund_id)
