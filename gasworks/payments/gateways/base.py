"""The adapter interface every online gateway implements, and the registry that finds them.

A gateway (1) sends the customer somewhere to pay (`start` returns that URL), (2) turns a signed
notification into a verified `Notification` or refuses it (`verify_callback`), (3) answers a
question about an order for reconciliation (`query`), (4) refunds (`refund`) and (5) says what
became of a refund (`refund_status`). Verification is the adapter's job; what the notification or
the refund answer *means* for our books is decided once, in services (settle, _book_refund)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from django.utils.translation import gettext_lazy as _

from gasworks.errors import DomainError, InvalidInput

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class GatewayError(DomainError):
    """The gateway could not be reached or refused the request (502 for the API)."""

    status = 502


def refused(why) -> GatewayError:
    return GatewayError(
        "gateway_refused", _("The payment gateway refused the request: %(why)s") % {"why": why}
    )


def unreachable() -> GatewayError:
    return GatewayError("gateway_unreachable", _("The payment gateway could not be reached."))


def busy(why) -> GatewayError:
    """The gateway answered that it could not carry the request out now: try again later."""
    return GatewayError(
        "gateway_busy", _("The payment gateway could not carry out the request now: %(why)s") % {"why": why}
    )


def bad_answer() -> GatewayError:
    return GatewayError("gateway_bad_answer", _("The gateway's answer is not signed by it."))


class BadNotification(InvalidInput):
    """A callback that fails verification: bad signature, malformed, for another merchant."""


@dataclass(frozen=True)
class Notification:
    order_no: str
    transaction_id: str
    amount: Decimal
    currency: str
    paid: bool  # False: the gateway reports the payment failed or closed
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RefundAnswer:
    """What a gateway says about one of our refunds. DONE: the money went back; PENDING: the gateway
    has the refund but no final outcome yet; FAILED: it refused, no money moved (`message` keeps its
    words). A gateway that cannot tell (unreachable, timed out, busy, an unsigned answer) raises
    GatewayError instead: the outcome is unknown and the refund stays processing."""

    DONE: ClassVar[str] = "done"
    PENDING: ClassVar[str] = "pending"
    FAILED: ClassVar[str] = "failed"

    state: str
    refund_id: str = ""
    message: str = ""


@dataclass(frozen=True)
class Ack:
    """What the gateway expects back so it stops retrying."""

    body: str
    content_type: str = "text/plain"


class Gateway(ABC):
    code: str = ""
    label: StrOrPromise = ""
    # The settings (environment variables) without which the gateway cannot work.
    required_settings: tuple[str, ...] = ()
    # True when `start` answers a code the customer scans (WeChat Native's weixin://…), not a page.
    shows_qr_code: bool = False

    @classmethod
    def configured(cls) -> bool:
        from gasworks.payments.gateways import config

        return all(config.is_set(name) for name in cls.required_settings)

    @abstractmethod
    def start(self, payment, notify_url: str, return_url: str) -> str:
        """The URL the customer opens to pay this pending order."""

    @abstractmethod
    def verify_callback(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        """Check the signature and parse; raise BadNotification when it is not genuine."""

    def ack(self, accepted: bool) -> Ack:
        return Ack("success" if accepted else "fail")

    @abstractmethod
    def query(self, payment) -> Notification | None:
        """Ask the gateway about an order: a Notification when it knows the outcome, else None."""

    @abstractmethod
    def refund(self, payment, amount: Decimal, refund_ref: str) -> RefundAnswer:
        """Refund part or all of a paid order. `refund_ref` is our stable key for this refund: sent
        again, the gateway refunds once. Raises GatewayError when the outcome is unknown."""

    @abstractmethod
    def refund_status(self, payment, amount: Decimal, refund_ref: str) -> RefundAnswer | None:
        """What became of the refund `refund_ref`; None when the gateway has no such refund (it never
        arrived, or was refused), so sending it again with the same key is safe. Raises GatewayError
        when the gateway cannot say."""


def order_expires_at(payment) -> datetime:
    """When an unpaid online order closes in our books; the gateways are told to close it then too,
    so a customer cannot pay an order that reconciliation has already expired."""
    from gasworks.system import parameters

    return payment.created_at + timedelta(minutes=parameters.get("payment_order_expiry_minutes"))


def _registry() -> dict[str, type[Gateway]]:
    from gasworks.payments.gateways.alipay import AlipayGateway
    from gasworks.payments.gateways.sandbox import SandboxGateway
    from gasworks.payments.gateways.wechat import WechatGateway

    return {g.code: g for g in (SandboxGateway, AlipayGateway, WechatGateway)}


def gateway_classes() -> list[type[Gateway]]:
    """Every gateway this code knows, offered here or not (reports name past payments by them)."""
    return list(_registry().values())


def sandbox_enabled() -> bool:
    """Whether the sandbox may take orders and settle them. Its page credits an account with money
    nobody paid, so only in DEBUG (the demo) or when PAYMENTS_SANDBOX is set (a staging server);
    never merely because no real gateway is configured."""
    from django.conf import settings

    return bool(settings.DEBUG or getattr(settings, "PAYMENTS_SANDBOX", False))


def available_gateways() -> list[type[Gateway]]:
    """The gateways customers may choose: the sandbox when enabled (sandbox_enabled), and every
    real one whose settings are present. Empty: this server takes no online payments."""
    registry = _registry()
    sandbox = registry.pop("sandbox")
    real = [cls for cls in registry.values() if cls.configured()]
    return [sandbox, *real] if sandbox_enabled() else real


def no_online_payment() -> DomainError:
    return DomainError(
        "online_payment_unavailable",
        _(
            "Online payment is not available: no payment gateway is set up. "
            "Please pay at the service counter or by bank transfer."
        ),
    )


def offered_gateway(code: str | None) -> type[Gateway]:
    """The gateway a new online order may use: `code` among available_gateways(), or the first of
    them when `code` is empty. With none available the order is refused (409)."""
    offered = available_gateways()
    if not offered:
        raise no_online_payment()
    if not code:
        return offered[0]
    for cls in offered:
        if cls.code == code:
            return cls
    raise InvalidInput(
        "gateway_not_available",
        _("The payment gateway “%(code)s” is not available here.") % {"code": code},
        {"gateway": [_("Choose one of the gateways offered.")]},
    )


def get_gateway(code: str) -> Gateway:
    cls = _registry().get(code)
    if cls is None:
        raise InvalidInput("unknown_gateway", _("Unknown payment gateway “%(code)s”.") % {"code": code})
    return cls()
