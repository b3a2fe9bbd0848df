from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "gasworks.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from gasworks.billing import ledger
        from gasworks.customers.balance import register_provider

        register_provider(ledger.balance, ledger.entries)
