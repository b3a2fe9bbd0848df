"""Alipay (支付宝) computer-website payment (alipay.trade.page.pay) through the maintained SDK
`python-alipay-sdk`. The SDK signs every request with the app's private key (RSA2), checks the
signature of every synchronous answer against the Alipay public key, and checks notifications
(`AliPay.verify`). Around the signature this adapter makes the checks Alipay asks a merchant to
make: the notification is for our app_id (and our seller, when ALIPAY_SELLER_ID is set); the order
and amount are checked against our books by services.settle (a conflicting amount is flagged).

The SDK is imported where Alipay is called (it loads its own crypto stack: ~0.1 s per process).

Environment: ALIPAY_APP_ID, ALIPAY_APP_PRIVATE_KEY(_FILE) (the app's private key),
ALIPAY_PUBLIC_KEY(_FILE) (Alipay's public key, not the app's), ALIPAY_SELLER_ID (optional: the
merchant's 2088… id), ALIPAY_DEBUG=1 for Alipay's sandbox."""

import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from gasworks.payments.gateways import config
from gasworks.payments.gateways.base import (
    BadNotification,
    Gateway,
    Notification,
    RefundAnswer,
    bad_answer,
    busy,
    order_expires_at,
    refused,
    unreachable,
)

PAID = {"TRADE_SUCCESS", "TRADE_FINISHED"}
CLOSED = {"TRADE_CLOSED"}
SUCCESS = "10000"  # Alipay's answer code for a request carried out
NO_SUCH_TRADE = "ACQ.TRADE_NOT_EXIST"  # the customer never opened the order
# Answers to a refund that say "not now" rather than "no": the same request may be sent again.
UNAVAILABLE = "20000"
RETRY_SUB_CODES = {"ACQ.SYSTEM_ERROR", "ACQ.REASON_TRADE_REFUND_FEE_ERR_RETRY"}
ALIPAY_TIME = ZoneInfo("Asia/Shanghai")  # Alipay's times are Beijing time


class AlipayGateway(Gateway):
    code = "alipay"
    label = _("Alipay")
    required_settings = ("ALIPAY_APP_ID", "ALIPAY_APP_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY")

    def _client(self, notify_url: str | None = None):
        from alipay import AliPay

        return AliPay(
            appid=config.value("ALIPAY_APP_ID"),
            app_notify_url=notify_url,
            app_private_key_string=config.private_key_pem("ALIPAY_APP_PRIVATE_KEY"),
            alipay_public_key_string=config.public_key_pem("ALIPAY_PUBLIC_KEY"),
            sign_type="RSA2",
            debug=os.environ.get("ALIPAY_DEBUG") == "1",
        )

    def _call(self, api: str, **kwargs) -> dict:
        """One server API call through the SDK (signed request, signature of the answer checked)."""
        from alipay.exceptions import AliPayException, AliPayValidationError

        client = self._client()
        try:
            return getattr(client, api)(**kwargs)
        except AliPayValidationError as exc:
            raise bad_answer() from exc
        except AliPayException as exc:  # an unsigned error answer: wrong app id, key or method
            raise refused(str(exc)[:300]) from exc
        except (OSError, ValueError) as exc:  # unreachable, timed out, or not JSON
            raise unreachable() from exc

    def start(self, payment, notify_url: str, return_url: str) -> str:
        client = self._client(notify_url)
        query = client.api_alipay_trade_page_pay(
            subject=f"Gas payment {payment.order_no}",
            out_trade_no=payment.order_no,
            total_amount=f"{payment.amount:.2f}",
            return_url=return_url,
            notify_url=notify_url,
            time_expire=order_expires_at(payment).astimezone(ALIPAY_TIME).strftime("%Y-%m-%d %H:%M:%S"),
        )
        return f"{client._gateway}?{query}"  # the SDK's gateway URL (production or sandbox)

    def verify_callback(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        from alipay.exceptions import AliPayException

        client = self._client()  # a misconfigured server says so before judging the sender
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        signature = params.pop("sign", "")
        # Alipay signs the non-empty parameters but sign and sign_type; the SDK drops sign_type
        # (refusing any but RSA2), sorts the rest and checks the signature with Alipay's key.
        signed = {k: v for k, v in params.items() if v != ""}
        try:
            genuine = bool(signature) and client.verify(signed, signature)
        except (AliPayException, ValueError):
            genuine = False
        if not genuine:
            raise BadNotification("bad_signature", _("The notification signature is not valid."))
        seller = config.value("ALIPAY_SELLER_ID", required=False)
        if params.get("app_id") != config.value("ALIPAY_APP_ID") or (
            seller and params.get("seller_id") != seller
        ):
            raise BadNotification("wrong_merchant", _("The notification is for another merchant."))
        if params.get("trade_status") not in PAID | CLOSED:
            raise BadNotification("not_final", _("The notification reports no outcome yet."))
        return self._notification(params)

    @staticmethod
    def _notification(params: Mapping[str, str]) -> Notification:
        try:
            return Notification(
                order_no=params["out_trade_no"],
                transaction_id=params["trade_no"],
                amount=Decimal(params["total_amount"]),
                currency="CNY",  # Alipay domestic trades settle in CNY
                paid=params.get("trade_status") in PAID,
                raw=dict(params),
            )
        except (KeyError, InvalidOperation) as exc:
            raise BadNotification("bad_notification", _("The notification is malformed.")) from exc

    def query(self, payment) -> Notification | None:
        result = self._call("api_alipay_trade_query", out_trade_no=payment.order_no)
        if result.get("code") != SUCCESS:
            if result.get("sub_code") == NO_SUCH_TRADE:
                return None
            raise refused(str(result.get("sub_msg") or result.get("msg")))
        if result.get("trade_status") not in PAID | CLOSED:
            return None  # WAIT_BUYER_PAY: no outcome yet
        return self._notification({**result, "out_trade_no": payment.order_no})

    def refund(self, payment, amount: Decimal, refund_ref: str) -> RefundAnswer:
        result = self._call(
            "api_alipay_trade_refund",
            refund_amount=f"{amount:.2f}",
            out_trade_no=payment.order_no,
            out_request_no=refund_ref,  # Alipay's key for this refund: a retry refunds once
        )
        why = str(result.get("sub_msg") or result.get("msg"))
        if result.get("code") == SUCCESS:
            # fund_change N: no money moved on this call (a repeat, or not yet carried out); Alipay
            # asks merchants to confirm such a refund with the refund query (refund_status).
            state = RefundAnswer.DONE if result.get("fund_change") == "Y" else RefundAnswer.PENDING
            return RefundAnswer(state, refund_ref)
        if result.get("code") == UNAVAILABLE or result.get("sub_code") in RETRY_SUB_CODES:
            raise busy(why)
        return RefundAnswer(RefundAnswer.FAILED, message=why)

    def refund_status(self, payment, amount: Decimal, refund_ref: str) -> RefundAnswer | None:
        """alipay.trade.fastpay.refund.query: an answer with the refund's data means it was carried
        out (refund_status REFUND_SUCCESS, or absent in older answers); none means Alipay has not
        refunded it, and the refund may be sent again under the same request number."""
        result = self._call(
            "api_alipay_trade_fastpay_refund_query", out_request_no=refund_ref, out_trade_no=payment.order_no
        )
        if result.get("code") != SUCCESS:
            raise busy(str(result.get("sub_msg") or result.get("msg")))
        if (
            not result.get("refund_amount")
            or result.get("refund_status", "REFUND_SUCCESS") != "REFUND_SUCCESS"
        ):
            return None
        return RefundAnswer(RefundAnswer.DONE, refund_ref)
