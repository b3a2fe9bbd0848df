from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from gasworks.cylinders import rules
from gasworks.cylinders.models import CylinderModel, Standard
from gasworks.lib.dates import PlausibleDate
from gasworks.lib.money import FormDecimalSpec
from gasworks.web.forms import BootstrapMixin

KG: FormDecimalSpec = {"max_digits": 8, "decimal_places": 3, "min_value": Decimal("0.001")}


class CylinderForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    model = forms.ChoiceField(label=_("Model"), choices=CylinderModel.choices, initial=CylinderModel.YSP35_5)
    tare_kg = forms.DecimalField(label=_("Tare, kg"), **KG)
    rated_fill_kg = forms.DecimalField(
        label=_("Rated fill, kg"), required=False, help_text=_("Blank: the model's default."), **KG
    )
    maker = forms.CharField(label=_("Maker"), max_length=120, required=False)
    manufactured_on = forms.DateField(
        validators=[PlausibleDate()],
        label=_("Manufactured on"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    standard = forms.ChoiceField(label=_("Standard"), choices=Standard.choices)
    next_inspection_on = forms.DateField(
        validators=[rules.NEXT_INSPECTION],
        label=_("Next inspection due"),
        required=False,
        help_text=_("Blank: computed from the standard."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class FillForm(BootstrapMixin, forms.Form):
    gross_kg = forms.DecimalField(
        label=_("Gross weight, kg"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.005", "autofocus": True}),
        **KG,
    )
    scale_id = forms.CharField(label=_("Scale"), max_length=40, required=False, initial="manual")


class ResidualForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label=_("Cylinder code"), max_length=32)
    gross_kg = forms.DecimalField(label=_("Gross weight, kg"), **KG)
    scale_id = forms.CharField(label=_("Scale"), max_length=40, required=False, initial="manual")


class OrderForm(BootstrapMixin, forms.Form):
    account_no = forms.CharField(label=_("Customer account number"), max_length=16)
    model = forms.ChoiceField(label=_("Model"), choices=CylinderModel.choices, initial=CylinderModel.YSP35_5)
    quantity = forms.IntegerField(label=_("Cylinders"), min_value=1, max_value=20, initial=1)
    note = forms.CharField(label=_("Note"), max_length=255, required=False)


class PortalOrderForm(BootstrapMixin, forms.Form):
    model = forms.ChoiceField(label=_("Model"), choices=CylinderModel.choices, initial=CylinderModel.YSP35_5)
    quantity = forms.IntegerField(label=_("Cylinders"), min_value=1, max_value=20, initial=1)
    note = forms.CharField(label=_("Note"), max_length=255, required=False)


class AssignForm(BootstrapMixin, forms.Form):
    worker: forms.ModelChoiceField = forms.ModelChoiceField(label=_("Delivery worker"), queryset=None)
    vehicle = forms.CharField(label=_("Vehicle"), max_length=20)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from gasworks.cylinders.orders import delivery_workers

        self.fields["worker"].queryset = delivery_workers()


class LoadForm(BootstrapMixin, forms.Form):
    out_codes = forms.CharField(
        label=_("Full cylinders out (scan each code)"), widget=forms.Textarea(attrs={"rows": 3})
    )


_WEIGH_HELP = _(
    "One code per line. To weigh the gas left in an empty, type its gross weight in kg after the "
    "code, e.g. “C000123 16.35”."
)


class DeliverForm(BootstrapMixin, forms.Form):
    back_codes = forms.CharField(
        label=_("Empty cylinders back (scan each code)"),
        required=False,
        help_text=_WEIGH_HELP,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    take_deposits = forms.BooleanField(
        label=_("Take a deposit for each extra cylinder (else it is an empty owed)"),
        required=False,
        initial=True,
    )


class PriceForm(BootstrapMixin, forms.Form):
    model = forms.ChoiceField(
        label=_("Model"), choices=[("", _("Any model")), *CylinderModel.choices], required=False
    )
    per_kg = forms.BooleanField(label=_("Price per kg (else per fill)"), required=False)
    price = forms.DecimalField(
        label=_("Price, CNY"), max_digits=12, decimal_places=4, min_value=Decimal("0.0001")
    )
    effective_from = forms.DateField(
        validators=[PlausibleDate()],
        label=_("Effective from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class InspectionPassForm(BootstrapMixin, forms.Form):
    next_on = forms.DateField(
        validators=[rules.NEXT_INSPECTION],
        label=_("Next inspection due"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(label=_("Note"), max_length=255, required=False)


class ReturnForm(BootstrapMixin, forms.Form):
    """Cylinders back for good. The hidden token makes a repeated submit find the first return."""

    codes = forms.CharField(
        label=_("Cylinders returned for good (scan each code)"),
        help_text=_WEIGH_HELP,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
