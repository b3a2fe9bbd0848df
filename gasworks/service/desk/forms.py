"""Forms of the desk's pages: they parse input only; the rules are in services.py."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from gasworks.lib.dates import PlausibleDate
from gasworks.metering.models import MeterKind
from gasworks.safety.models import Crew
from gasworks.service.desk.models import RequestKind, RequestSource

STAFF_SOURCES = [(s.value, s.label) for s in RequestSource if s != RequestSource.PORTAL]


class OpenForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=RequestKind.choices)
    source = forms.ChoiceField(label=_("Taken by"), choices=STAFF_SOURCES, initial=RequestSource.PHONE)
    description = forms.CharField(
        label=_("What the customer asks for"), widget=forms.Textarea(attrs={"rows": 3})
    )
    form_token = forms.UUIDField(widget=forms.HiddenInput)


class PortalOpenForm(forms.Form):
    kind = forms.ChoiceField(label=_("What do you need?"))
    description = forms.CharField(label=_("Tell us more"), widget=forms.Textarea(attrs={"rows": 3}))
    form_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(kinds)


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Why (optional)"), required=False, max_length=200)


class AssignForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Assign to"), queryset=get_user_model().objects.none())
    crew = forms.ModelChoiceField(label=_("Crew"), queryset=Crew.objects.filter(active=True), required=False)
    scheduled_at = forms.DateTimeField(
        label=_("Visit at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        validators=[PlausibleDate()],
    )

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        if users is not None:
            self.fields["user"].queryset = users


class CompleteForm(forms.Form):
    note = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 2}))
    old_meter = forms.CharField(label=_("Old meter serial number"), required=False, max_length=40)
    old_reading = forms.DecimalField(
        label=_("Old meter final reading (m³)"), required=False, max_digits=12, decimal_places=3
    )
    new_serial_no = forms.CharField(label=_("New meter serial number"), required=False, max_length=40)
    new_reading = forms.DecimalField(
        label=_("New meter first reading (m³)"), required=False, max_digits=12, decimal_places=3
    )
    new_kind = forms.ChoiceField(
        label=_("New meter kind"),
        required=False,
        choices=[("", "—"), *[(k.value, k.label) for k in MeterKind if k != MeterKind.DISTRICT]],
    )
