from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "gasworks.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from gasworks.accounts.roles import extend
        from gasworks.billing import params, web_hooks  # noqa: F401  (registers parameters)

        extend(
            "cashier",
            "billing.view_tariff",
            "billing.view_bill",
            "billing.view_billingrun",
            "billing.view_billreview",
            "billing.view_account",
            "billing.view_ledgerentry",
            "billing.view_adjustment",
            "billing.add_adjustment",
        )
        web_hooks.install()
