from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from gasworks.accounts.roles import Role
from gasworks.safety.models import Crew, HazardLevel, Priority

_DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"})
_TEXT = {"class": "form-control"}


class AccountField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(
            label=_("Account number"), max_length=20, widget=forms.TextInput(attrs=_TEXT), **kwargs
        )


class TaskForm(forms.Form):
    account_no = AccountField()
    due_on = forms.DateField(label=_("Due on"), widget=_DATE)
    inspector = forms.ModelChoiceField(
        label=_("Inspector"),
        queryset=get_user_model().objects.filter(role=Role.INSPECTOR, is_active=True),
        required=False,
        empty_label=_("By district"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    appointment_at = forms.DateTimeField(
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
        label=_("Rectification deadline"),
        required=False,
        widget=_DATE,
        help_text=_("Empty: by level (parameter)."),
    )


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={**_TEXT, "rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255, widget=forms.TextInput(attrs=_TEXT))


class EmergencyForm(forms.Form):
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


class PortalEmergencyForm(forms.Form):
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


class DispatchForm(forms.Form):
    crew = forms.ModelChoiceField(
        label=_("Crew"),
        queryset=Crew.objects.filter(active=True),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
