import datetime
import uuid

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gasworks.accounts.roles import Role
from gasworks.lib.dates import PlausibleDate
from gasworks.safety.models import Crew, HazardLevel, InspectorArea, Priority

_DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"})
_TEXT = {"class": "form-control"}


class AccountField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(
            label=_("Account number"), max_length=20, widget=forms.TextInput(attrs=_TEXT), **kwargs
        )


class TaskForm(forms.Form):
    account_no = AccountField()
    due_on = forms.DateField(validators=[PlausibleDate()], label=_("Due on"), widget=_DATE)
    inspector = forms.ModelChoiceField(
        label=_("Inspector"),
        queryset=get_user_model().objects.filter(role=Role.INSPECTOR, is_active=True),
        required=False,
        empty_label=_("By district"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    appointment_at = forms.DateTimeField(
        validators=[PlausibleDate()],
        label=_("Appointment"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control"}),
    )


class HazardForm(forms.Form):
    account_no = AccountField()
    level = forms.ChoiceField(
        label=_("Level"), choices=HazardLevel.choices, widget=forms.Select(attrs={"class": "form-select"})
    )
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={**_TEXT, "rows": 3}))
    deadline = forms.DateField(
        validators=[PlausibleDate()],
        label=_("Rectification deadline"),
        required=False,
        widget=_DATE,
        help_text=_("Empty: by level (parameter)."),
    )


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={**_TEXT, "rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255, widget=forms.TextInput(attrs=_TEXT))


class OneTimeTokenForm(forms.Form):
    """A hidden token minted for each rendering of the form. The report stores it under a unique
    index, so the same form sent twice (double click, resend after a slow answer) makes one
    report. A submit without a valid token gets a fresh one and is asked to send again."""

    form_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.token_renewed = False
        if not self.is_bound:
            self.initial["form_token"] = uuid.uuid4()
            return
        try:
            uuid.UUID(str(self.data.get("form_token", "")))
        except ValueError:
            self.data = self.data.copy()
            self.data["form_token"] = str(uuid.uuid4())
            self.token_renewed = True

    def clean(self):
        cleaned = super().clean()
        if self.token_renewed:
            raise forms.ValidationError(_("This form has expired: please check it and send it again."))
        return cleaned


class EmergencyForm(OneTimeTokenForm):
    address = forms.CharField(label=_("Address"), max_length=255, widget=forms.TextInput(attrs=_TEXT))
    description = forms.CharField(
        label=_("What is happening"), widget=forms.Textarea(attrs={**_TEXT, "rows": 3})
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        choices=Priority.choices,
        initial=Priority.HIGH,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    contact_phone = forms.CharField(
        label=_("Contact phone"), max_length=32, required=False, widget=forms.TextInput(attrs=_TEXT)
    )
    account_no = forms.CharField(
        label=_("Account number (if known)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs=_TEXT),
    )


class PortalEmergencyForm(OneTimeTokenForm):
    description = forms.CharField(
        label=_("What is happening"), widget=forms.Textarea(attrs={**_TEXT, "rows": 3})
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs=_TEXT),
        help_text=_("Leave empty if it is at your own address."),
    )
    contact_phone = forms.CharField(
        label=_("Contact phone"), max_length=32, required=False, widget=forms.TextInput(attrs=_TEXT)
    )


class SlotForm(forms.Form):
    """The slot a customer picks in the portal: its start, as the slot button sends it."""

    starts_at = forms.DateTimeField(validators=[PlausibleDate()])


class DispatchForm(forms.Form):
    crew = forms.ModelChoiceField(
        label=_("Crew"),
        queryset=Crew.objects.filter(active=True),
        widget=forms.Select(attrs={"class": "form-select"}),
    )


def _staff_users():
    return get_user_model().objects.filter(is_active=True, customer__isnull=True).order_by("username")


class CrewForm(forms.ModelForm):
    class Meta:
        model = Crew
        fields = ["name", "phone", "leader", "active"]
        widgets = {
            "name": forms.TextInput(attrs=_TEXT),
            "phone": forms.TextInput(attrs=_TEXT),
            "leader": forms.Select(attrs={"class": "form-select"}),
            "active": forms.CheckboxInput(attrs={"class": "form-check-input"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = _staff_users()
        self.fields["leader"].label = _("Leader")


class AreaForm(forms.ModelForm):
    class Meta:
        model = InspectorArea
        fields = ["district", "inspector"]
        widgets = {
            "district": forms.TextInput(attrs={**_TEXT, "list": "districts"}),
            "inspector": forms.Select(attrs={"class": "form-select"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspector"].queryset = get_user_model().objects.filter(
            role=Role.INSPECTOR, is_active=True
        )


class ChecklistTitleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120, widget=forms.TextInput(attrs=_TEXT))


class ChecklistItemForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40, widget=forms.TextInput(attrs=_TEXT))
    label = forms.CharField(label=_("Label"), max_length=160, widget=forms.TextInput(attrs=_TEXT))
    hazard_level = forms.ChoiceField(
        label=_("Hazard level when failed"),
        choices=HazardLevel.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    order = forms.IntegerField(
        label=_("Order"), min_value=0, max_value=999, widget=forms.NumberInput(attrs=_TEXT)
    )


ChecklistItemFormSet = forms.formset_factory(ChecklistItemForm, extra=2, can_delete=True)


class AppointmentForm(forms.Form):
    day = forms.DateField(validators=[PlausibleDate()], label=_("Day"), widget=_DATE)
    starts = forms.TimeField(
        label=_("From"), widget=forms.TimeInput(attrs={"type": "time", "class": "form-control"})
    )
    ends = forms.TimeField(
        label=_("To"), widget=forms.TimeInput(attrs={"type": "time", "class": "form-control"})
    )

    def window(self) -> tuple[datetime.datetime, datetime.datetime]:
        """The window as aware datetimes in the station's time zone."""
        data = self.cleaned_data
        zone = timezone.get_current_timezone()
        return (
            timezone.make_aware(datetime.datetime.combine(data["day"], data["starts"]), zone),
            timezone.make_aware(datetime.datetime.combine(data["day"], data["ends"]), zone),
        )
