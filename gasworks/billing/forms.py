from django import forms
from django.utils.translation import gettext_lazy as _

from gasworks.billing.models import Adjustment, Tariff
from gasworks.customers.models import Category, GasUse
from gasworks.lib.dates import PlausibleDate
from gasworks.web.forms import decimal_for


class TariffForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    gas_use = forms.ChoiceField(label=_("Gas use"), choices=[("", _("Any")), *GasUse.choices], required=False)
    effective_from = forms.DateField(
        validators=[PlausibleDate()],
        label=_("Effective from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    tiers = forms.CharField(
        label=_("Tiers"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One tier per line: “up to m³ per year” and price, e.g. “350 2.61”; the last line “- 4.23”."
        ),
    )
    minimum_charge = decimal_for(
        Tariff, "minimum_charge", label=_("Minimum monthly charge"), initial=0, min_value=0
    )
    meter_rent = decimal_for(Tariff, "meter_rent", label=_("Meter rent per month"), initial=0, min_value=0)

    def tier_rows(self) -> list[dict]:
        rows: list[dict[str, str | None]] = []
        for line in self.cleaned_data["tiers"].splitlines():
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2:
                rows.append({"up_to": "x", "price": "x"})
                continue
            rows.append({"up_to": None if parts[0] in {"-", "—"} else parts[0], "price": parts[1]})
        return rows


class RunForm(forms.Form):
    period = forms.CharField(label=_("Period (YYYY-MM)"), max_length=7)


class AdjustmentForm(forms.Form):
    amount = decimal_for(
        Adjustment,
        "amount",
        label=_("Amount"),
        help_text=_("Positive credits the account, negative charges it."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=255)
