"""Alipay (支付宝) page payment through the maintained SDK `python-alipay-sdk` (imported lazily,
only where we call Alipay). Notifications are verified here with RSA2 (SHA256withRSA) against the
Alipay public key, the same check the SDK's `verify` makes, so a callback can be checked without
the SDK installed.

Environment: ALIPAY_APP_ID, ALIPAY_APP_PRIVATE_KEY(_FILE), ALIPAY_PUBLIC_KEY(_FILE),
ALIPAY_DEBUG=1 for Alipay's sandbox."""

import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from django.utils.translation import gettext_lazy as _

from gasworks.payments import rsa
from gasworks.payments.gateways import config
from gasworks.payments.gateways.base import BadNotification, Gateway, GatewayError, Notification

PAID = {"TRADE_SUCCESS", "TRADE_FINISHED"}
CLOSED = {"TRADE_CLOSED"}


def signing_string(params: Mapping[str, str]) -> bytes:
    """Alipay's rule: every parameter but sign and sign_type, non-empty, sorted, k=v joined by &."""
    pairs = sorted((k, v) for k, v in params.items() if k not in ("sign", "sign_type") and v != "")
    return "&".join(f"{k}={v}" for k, v in pairs).encode()


class AlipayGateway(Gateway):
    code = "alipay"
    label = _("Alipay")

    def _client(self, notify_url: str | None = None):
        try:
            from alipay import AliPay  # python-alipay-sdk
        except ImportError as exc:
            raise config.sdk_missing("python-alipay-sdk") from exc
        return AliPay(
            appid=config.value("ALIPAY_APP_ID"),
            app_notify_url=notify_url,
            app_private_key_string=config.value("ALIPAY_APP_PRIVATE_KEY"),
            alipay_public_key_string=config.value("ALIPAY_PUBLIC_KEY"),
            sign_type="RSA2",
            debug=os.environ.get("ALIPAY_DEBUG") == "1",
        )

    def start(self, payment, notify_url: str, return_url: str) -> str:
        client = self._client(notify_url)
        query = client.api_alipay_trade_page_pay(
            subject=f"Gas payment {payment.order_no}",
            out_trade_no=payment.order_no,
            total_amount=f"{payment.amount:.2f}",
            return_url=return_url,
            notify_url=notify_url,
        )
        return f"{client._gateway}?{query}"

    def verify_callback(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if params.get("sign_type", "RSA2") != "RSA2":
            raise BadNotification("bad_signature", _("Only RSA2 signatures are accepted."))
        try:
            key = rsa.load_public(config.value("ALIPAY_PUBLIC_KEY"))
            rsa.verify_b64(key, signing_string(params), params.get("sign", ""))
        except rsa.SignatureError as exc:
            raise BadNotification("bad_signature", _("The notification signature is not valid.")) from exc
        if params.get("app_id") != config.value("ALIPAY_APP_ID"):
            raise BadNotification("wrong_merchant", _("The notification is for another merchant."))
        return self._notification(params)

    @staticmethod
    def _notification(params: Mapping[str, str]) -> Notification:
        status = params.get("trade_status", "")
        try:
            amount = Decimal(params["total_amount"])
            return Notification(
                order_no=params["out_trade_no"],
                transaction_id=params["trade_no"],
                amount=amount,
                currency="CNY",  # Alipay domestic trades settle in CNY
                paid=status in PAID,
                raw=dict(params),
            )
        except (KeyError, InvalidOperation) as exc:
            raise BadNotification("bad_notification", _("The notification is malformed.")) from exc

    def query(self, payment) -> Notification | None:
        result = self._client().api_alipay_trade_query(out_trade_no=payment.order_no)
        status = result.get("trade_status", "")
        if result.get("code") != "10000" or status not in PAID | CLOSED:
            return None
        return self._notification({**result, "out_trade_no": payment.order_no})

    def refund(self, payment, amount: Decimal, refund_ref: str) -> str:
        result = self._client().api_alipay_trade_refund(
            refund_amount=f"{amount:.2f}", out_trade_no=payment.order_no, out_request_no=refund_ref
        )
        if result.get("code") != "10000":
            raise GatewayError("gateway_refund_failed", str(result.get("sub_msg") or result.get("msg")))
        return refund_ref
