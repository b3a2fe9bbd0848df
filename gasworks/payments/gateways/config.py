"""Gateway credentials come from the environment (nothing secret is committed). A key may be
given inline (`..._KEY`) or as a file path (`..._KEY_FILE`)."""

import os
from pathlib import Path

from django.utils.translation import gettext as _

from gasworks.payments.gateways.base import GatewayError


def value(name: str, required: bool = True) -> str:
    inline = os.environ.get(name, "")
    if not inline and os.environ.get(f"{name}_FILE"):
        inline = Path(os.environ[f"{name}_FILE"]).read_text()
    if required and not inline:
        raise GatewayError(
            "gateway_not_configured", _("Payment gateway setting %(name)s is not set.") % {"name": name}
        )
    return inline


def sdk_missing(package: str) -> GatewayError:
    return GatewayError(
        "gateway_sdk_missing",
        _("The gateway SDK “%(package)s” is not installed on this server.") % {"package": package},
    )
