from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from gasworks.lib.dates import PlausibleDate
from gasworks.lib.money import FormDecimalSpec
from gasworks.metering import routes
from gasworks.metering.models import MeterKind, ReadingReason
from gasworks.web.forms import BootstrapMixin

VOLUME: FormDecimalSpec = {"max_digits": 14, "decimal_places": 3, "min_value": 0}


class MeterForm(forms.Form):
    serial_no = forms.CharField(label=_("Serial number"), max_length=40)
    kind = forms.ChoiceField(label=_("Kind"), choices=MeterKind.choices)
    account_no = forms.CharField(
        label=_("Customer account number"),
        max_length=16,
        required=False,
        help_text=_("For a customer's meter."),
    )
    district = forms.CharField(
        label=_("District"),
        max_length=64,
        required=False,
        help_text=_("For a supply meter (kind: district supply meter) only, e.g. 朝阳区."),
    )
    digits = forms.IntegerField(label=_("Register digits"), min_value=3, max_value=10, initial=5)
    initial_reading = forms.DecimalField(label=_("Initial reading"), initial=0, **VOLUME)
    installed_on = forms.DateField(
        validators=[PlausibleDate()], label=_("Installed on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    correction_factor = forms.DecimalField(
        label=_("Fixed correction factor"), required=False, max_digits=10, decimal_places=6, min_value=0
    )

    def clean(self):
        data = super().clean()
        account_no, district = data.get("account_no", "").strip(), data.get("district", "").strip()
        if data.get("kind") == MeterKind.DISTRICT:
            if not district:
                self.add_error("district", _("A supply meter needs its district."))
            if account_no:
                self.add_error("account_no", _("A supply meter belongs to a district, not to a customer."))
        elif data.get("kind"):
            if not account_no:
                self.add_error("account_no", _("Required."))
            if district:
                self.add_error("district", _("Only a supply meter (kind district) has a district."))
        return data


class ReadingForm(BootstrapMixin, forms.Form):
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
    # Shown (as a checkbox) only after a warning about a value far below the previous one.
    confirm = forms.BooleanField(label="", required=False, widget=forms.HiddenInput)

    def ask_to_confirm(self, previous) -> None:
        self.add_error(
            "value",
            _(
                "This is below the previous reading (%(p)s) by more than a rollover explains. Check the "
                "register; if it really shows this value, tick the box and save again: it is kept for review."
            )
            % {"p": previous},
        )
        field = self.fields["confirm"]
        field.label = self["confirm"].label = _("Yes, the register really shows this value")
        field.widget = forms.CheckboxInput(attrs={"class": "form-check-input"})


class RouteReadingForm(forms.Form):
    value = forms.DecimalField(
        label=_("New reading"),
        **VOLUME,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.001", "autofocus": True}),
    )
    # Set once the reader has seen the warning about a value far below the previous one.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


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


class RouteSettingsForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Route name"), max_length=80)
    reader = forms.ModelChoiceField(
        label=_("Meter reader"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("Not assigned"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reader"].queryset = routes.readers()


class RouteCreateForm(RouteSettingsForm):
    district = forms.ChoiceField(label=_("All meters of a district"), required=False)
    street = forms.CharField(
        label=_("All meters on a street"),
        required=False,
        max_length=80,
        help_text=_("A part of the address, e.g. 望京街道. Leave both empty to pick meters one by one."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = [("", "—"), *((d, d) for d in routes.districts())]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or Excel file (columns serial_no, value, taken_at, reason)"))


class ReviewForm(forms.Form):
    value = forms.DecimalField(label=_("Corrected value"), required=False, **VOLUME)
    note = forms.CharField(label=_("Note"), max_length=255, required=False)


class SelfReadingForm(BootstrapMixin, forms.Form):
    """The customer's self-reading in the portal; the service checks the rules."""

    meter = forms.TypedChoiceField(label=_("Meter"), coerce=int)
    value = forms.CharField(
        label=_("Reading, m³"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("The black digits, and the red ones after the point if you like."),
    )
    photo = forms.FileField(
        label=_("Photo of the register"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),  # camera or gallery
    )
    read_at = forms.DateTimeField(
        label=_("Read at"),
        required=False,
        validators=[PlausibleDate()],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."),
    )

    def __init__(self, *args, meters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meter"].choices = [(m.pk, m.serial_no) for m in meters]
