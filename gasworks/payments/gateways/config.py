"""Gateway credentials come from the environment (nothing secret is committed). A value may be
given inline (`NAME`) or as a file path (`NAME_FILE`). RSA keys are accepted as PEM or as the
bare base64 body the providers' consoles hand out, and handed to the SDKs as standard PEM."""

import os
from pathlib import Path

from django.utils.translation import gettext as _

from gasworks.payments import rsa
from gasworks.payments.gateways.base import GatewayError


def value(name: str, required: bool = True) -> str:
    inline = os.environ.get(name, "")
    if not inline and os.environ.get(f"{name}_FILE"):
        inline = Path(os.environ[f"{name}_FILE"]).read_text()
    if required and not inline:
        raise GatewayError(
            "gateway_not_configured", _("Payment gateway setting %(name)s is not set.") % {"name": name}
        )
    return inline.strip()


def is_set(name: str) -> bool:
    """Whether setting `name` is given, inline or as a file (without reading the file)."""
    return bool(os.environ.get(name, "").strip() or os.environ.get(f"{name}_FILE", "").strip())


def _bad_key(name: str) -> GatewayError:
    return GatewayError(
        "gateway_not_configured",
        _("Payment gateway setting %(name)s is not a valid RSA key.") % {"name": name},
    )


def private_key_pem(name: str) -> str:
    """The RSA private key in setting `name` as PKCS#8 PEM."""
    try:
        return rsa.private_pem(rsa.load_private(value(name)))
    except rsa.SignatureError as exc:
        raise _bad_key(name) from exc


def public_key_pem(name: str, required: bool = True) -> str:
    """The RSA public key in setting `name` as SubjectPublicKeyInfo PEM ("" when optional and unset)."""
    text = value(name, required)
    if not text:
        return ""
    try:
        return rsa.public_pem(rsa.load_public(text))
    except rsa.SignatureError as exc:
        raise _bad_key(name) from exc
