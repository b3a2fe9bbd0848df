"""System checks of payments, shown by `manage.py check --deploy`."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def sandbox_off_in_production(app_configs=None, **kwargs):
    """The sandbox's pay page credits an account with money nobody paid: a server with DEBUG off
    should not have it turned on."""
    if settings.DEBUG or not getattr(settings, "PAYMENTS_SANDBOX", False):
        return []
    return [
        Warning(
            "PAYMENTS_SANDBOX is on while DEBUG is off: any customer can credit their own account "
            "through the sandbox gateway's pay page.",
            hint="Unset PAYMENTS_SANDBOX unless this is a test or staging server.",
            id="payments.W001",
        )
    ]
