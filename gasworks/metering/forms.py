from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from gasworks.lib.dates import PlausibleDate
from gasworks.metering.models import MeterKind, ReadingReason

VOLUME = {"max_digits": 14, "decimal_places": 3, "min_value": 0}


class MeterForm(forms.Form):
    serial_no = forms.CharField(label=_("Serial number"), max_length=40)
    account_no = forms.CharField(label=_("Customer account number"), max_length=16)
    kind = forms.ChoiceField(label=_("Kind"), choices=MeterKind.choices)
    digits = forms.IntegerField(label=_("Register digits"), min_value=3, max_value=10, initial=5)
    initial_reading = forms.DecimalField(label=_("Initial reading"), initial=0, **VOLUME)
    installed_on = forms.DateField(
        validators=[PlausibleDate()], label=_("Installed on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    correction_factor = forms.DecimalField(
        label=_("Fixed correction factor"), required=False, max_digits=10, decimal_places=6, min_value=0
    )


class ReadingForm(forms.Form):
    meter = forms.CharField(label=_("Meter serial number"), max_length=40)
    value = forms.DecimalField(label=_("Register value"), **VOLUME)
    taken_at = forms.DateTimeField(
        validators=[PlausibleDate()],
        label=_("Taken at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    reason = forms.ChoiceField(label=_("Reason"), choices=ReadingReason.choices)
    pressure_kpa = forms.DecimalField(
        label=_("Gauge pressure, kPa"), required=False, max_digits=10, decimal_places=3
    )
    temperature_c = forms.DecimalField(
        label=_("Temperature, °C"), required=False, max_digits=6, decimal_places=2
    )


class RouteReadingForm(forms.Form):
    value = forms.DecimalField(
        label=_("New reading"),
        **VOLUME,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.001", "autofocus": True}),
    )


class ReplaceForm(forms.Form):
    final_value = forms.DecimalField(label=_("Final reading of this meter"), **VOLUME)
    on = forms.DateField(
        validators=[PlausibleDate()], label=_("Replaced on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    new_serial_no = forms.CharField(label=_("New meter serial number"), max_length=40)
    new_initial = forms.DecimalField(label=_("Initial reading of the new meter"), initial=0, **VOLUME)


class RemoveForm(forms.Form):
    final_value = forms.DecimalField(label=_("Final reading"), **VOLUME)
    on = forms.DateField(
        validators=[PlausibleDate()], label=_("Removed on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class RouteForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    reader = forms.ModelChoiceField(
        label=_("Meter reader"), queryset=get_user_model().objects.none(), required=False
    )
    serials = forms.CharField(
        label=_("Meter serial numbers, in walking order"), widget=forms.Textarea(attrs={"rows": 6})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reader"].queryset = (
            get_user_model().objects.filter(role="meter_reader").order_by("username")
        )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or Excel file (columns serial_no, value, taken_at, reason)"))


class ReviewForm(forms.Form):
    value = forms.DecimalField(label=_("Corrected value"), required=False, **VOLUME)
    note = forms.CharField(label=_("Note"), max_length=255, required=False)
