from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from gasworks.lib.money import FormDecimalSpec
from gasworks.payments.gateways import available_gateways
from gasworks.payments.models import COUNTER_METHODS, Method

MONEY: FormDecimalSpec = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0.01")}


class CounterForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), **MONEY)
    method = forms.ChoiceField(
        label=_("Method"),
        choices=[(m.value, m.label) for m in Method if m in COUNTER_METHODS],
        initial=Method.CASH,
        widget=forms.RadioSelect,
    )
    tendered = forms.DecimalField(label=_("Cash tendered"), required=False, **MONEY)


class OnlinePayForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), **MONEY)
    gateway = forms.ChoiceField(label=_("Pay with"), choices=[], widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        gateways = available_gateways()  # only those offered here (the page shows none when empty)
        self.fields["gateway"].choices = [(g.code, g.label) for g in gateways]
        self.fields["gateway"].initial = gateways[0].code if gateways else None


class RefundForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount to refund"), **MONEY)
    reason = forms.CharField(label=_("Reason"), max_length=255)


class ShiftCloseForm(forms.Form):
    cash_counted = forms.DecimalField(
        label=_("Cash counted in the drawer"), required=False, max_digits=12, decimal_places=2
    )
    handed_to = forms.CharField(label=_("Handed over to"), max_length=120, required=False)
    note = forms.CharField(label=_("Note"), max_length=255, required=False)


class TopUpForm(CounterForm):
    pass


class ReplaceCardForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=120)
    lost = forms.BooleanField(label=_("The old card was lost"), required=False)
