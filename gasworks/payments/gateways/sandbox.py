"""The built-in sandbox gateway: a page on our own site plays the provider. Paying there records a
SandboxTransaction (the gateway's books) and sends an RSA-signed notification to our callback
handler in-process, exactly the path a real provider's HTTP callback takes.

The key pair is made on first use under var/payments/ (or read from PAYMENTS_SANDBOX_KEY_FILE)."""

import json
import os
import threading
import uuid
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gasworks.errors import DomainError
from gasworks.lib import safejson
from gasworks.payments import rsa
from gasworks.payments.gateways.base import (
    BadNotification,
    Gateway,
    Notification,
    RefundAnswer,
    sandbox_enabled,
)

SIGNATURE_HEADER = "X-Sandbox-Signature"
_lock = threading.Lock()
_cache: dict[str, rsa.PrivateKey] = {}


def key_path() -> Path:
    configured = os.environ.get("PAYMENTS_SANDBOX_KEY_FILE") or getattr(
        settings, "PAYMENTS_SANDBOX_KEY_FILE", ""
    )
    return Path(configured) if configured else Path(settings.VAR_DIR) / "payments" / "sandbox_key.pem"


def private_key() -> rsa.PrivateKey:
    path = key_path()
    with _lock:
        if str(path) not in _cache:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
                tmp.write_text(rsa.private_pem(rsa.generate(2048)))
                tmp.chmod(0o600)
                try:
                    os.link(tmp, path)  # atomic "create if absent": parallel workers agree on one key
                except FileExistsError:
                    pass
                finally:
                    tmp.unlink()
            _cache[str(path)] = rsa.load_private(path.read_text())
        return _cache[str(path)]


def signed_notification(order_no: str, txn_id: str, amount: Decimal, currency: str, status: str = "paid"):
    """(body, headers) of a sandbox notification, signed with the sandbox's private key."""
    body = json.dumps(
        {
            "order_no": order_no,
            "transaction_id": txn_id,
            "amount": f"{amount:.2f}",
            "currency": currency,
            "status": status,
        },
        separators=(",", ":"),
    ).encode()
    return body, {SIGNATURE_HEADER: rsa.sign_b64(private_key(), body)}


def require_enabled() -> None:
    """Nothing the sandbox signs may settle an order unless it is enabled (DEBUG or
    PAYMENTS_SANDBOX): its pay page credits an account with money nobody paid."""
    if not sandbox_enabled():
        raise DomainError("sandbox_disabled", _("The sandbox gateway is turned off on this server."))


class SandboxGateway(Gateway):
    code = "sandbox"
    label = _("Sandbox (demo)")

    def start(self, payment, notify_url: str, return_url: str) -> str:
        require_enabled()
        return reverse("payments:sandbox-pay", args=[payment.order_no])

    def verify_callback(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        require_enabled()
        signature = headers.get(SIGNATURE_HEADER, "")
        try:
            rsa.verify_b64(private_key().public_key(), body, signature)
        except rsa.SignatureError as exc:
            raise BadNotification("bad_signature", _("The notification signature is not valid.")) from exc
        try:
            data = safejson.loads(body)
            return Notification(
                order_no=str(data["order_no"]),
                transaction_id=str(data["transaction_id"]),
                amount=Decimal(str(data["amount"])),
                currency=str(data["currency"]),
                paid=data["status"] == "paid",
                raw=data,
            )
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise BadNotification("bad_notification", _("The notification is malformed.")) from exc

    def pay(self, payment) -> tuple[bytes, dict]:
        """The customer pays on the sandbox page: book it, return the signed notification."""
        from gasworks.payments.models import SandboxTransaction

        require_enabled()
        txn, _created = SandboxTransaction.objects.get_or_create(
            order_no=payment.order_no,
            defaults={
                "transaction_id": f"SBX{uuid.uuid4().hex[:24].upper()}",
                "amount": payment.amount,
                "currency": payment.currency,
                "paid_at": timezone.now(),
            },
        )
        return signed_notification(txn.order_no, txn.transaction_id, txn.amount, txn.currency)

    def query(self, payment) -> Notification | None:
        from gasworks.payments.models import SandboxTransaction

        if not sandbox_enabled():
            return None  # turned off: nothing was paid there, the order expires
        txn = SandboxTransaction.objects.filter(order_no=payment.order_no).first()
        if txn is None:
            return None
        body, headers = signed_notification(txn.order_no, txn.transaction_id, txn.amount, txn.currency)
        return self.verify_callback(body, headers)

    def refund(self, payment, amount: Decimal, refund_ref: str) -> RefundAnswer:
        """Like the real providers: once per refund_ref, never above what is left of the trade."""
        from django.db import transaction

        from gasworks.payments.models import SandboxTransaction

        with transaction.atomic():
            txn = SandboxTransaction.objects.select_for_update().filter(order_no=payment.order_no).first()
            if txn is None:
                return RefundAnswer(RefundAnswer.FAILED, message=str(_("No such trade at the sandbox.")))
            if refund_ref not in txn.refunds:
                if amount > txn.amount - txn.refunded:
                    return RefundAnswer(
                        RefundAnswer.FAILED, message=str(_("The refund is above what is left of the trade."))
                    )
                txn.refunds[refund_ref] = f"{amount:.2f}"
                txn.refunded += amount
                txn.save(update_fields=["refunds", "refunded"])
        return RefundAnswer(RefundAnswer.DONE, f"SBXR-{refund_ref}")

    def refund_status(self, payment, amount: Decimal, refund_ref: str) -> RefundAnswer | None:
        from gasworks.payments.models import SandboxTransaction

        txn = SandboxTransaction.objects.filter(order_no=payment.order_no).first()
        if txn is None or refund_ref not in txn.refunds:
            return None
        return RefundAnswer(RefundAnswer.DONE, f"SBXR-{refund_ref}")
