from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from gasworks.accounts.roles import Role
from gasworks.customers.models import Category, GasUse
from gasworks.lib import decimals
from gasworks.lib.dates import PlausibleDate


def decimal_for(model, name: str, **kwargs) -> forms.DecimalField:
    """A form field for ``model``'s DecimalField ``name``, refusing what its column cannot hold
    (digits and places taken from the column: a form can never accept more than it stores)."""
    return forms.DecimalField(**decimals.limits(model, name), **kwargs)


def bootstrap_class(widget) -> str:
    """Bootstrap's class for a widget: a select, a check box or radio button, or any other input."""
    if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


class BootstrapMixin:
    """Give every widget Bootstrap's classes, so templates can render fields plainly."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", bootstrap_class(field.widget))


class CustomerForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    gas_use = forms.ChoiceField(label=_("Gas use"), choices=GasUse.choices)
    phone = forms.CharField(label=_("Phone"), max_length=32)
    address = forms.CharField(label=_("Address"), max_length=255)
    district = forms.CharField(label=_("District"), max_length=64, required=False)
    household_size = forms.IntegerField(label=_("Household size"), min_value=1, max_value=99, initial=1)
    id_number = forms.CharField(label=_("ID or business licence number"), max_length=32, required=False)


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)


class RegisterForm(BootstrapMixin, forms.Form):
    account_no = forms.CharField(label=_("Account number"), max_length=20)
    phone = forms.CharField(label=_("Phone on file"), max_length=32)
    username = forms.CharField(label=_("Choose a username"), max_length=150)
    email = forms.EmailField(label=_("Email (for password reset)"), required=False)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class UserCreateForm(BootstrapMixin, forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("Name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    customer_account_no = forms.CharField(
        label=_("Customer account number (customer logins only)"), required=False
    )
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)


class UserEditForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = get_user_model()
        fields = ["first_name", "last_name", "email", "phone", "role", "is_active"]


class ProfileForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = get_user_model()
        fields = ["first_name", "last_name", "email", "phone"]


class AuditFilterForm(BootstrapMixin, forms.Form):
    """The audit log's filters: who, what object, which action, between which dates."""

    actor: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("By"), queryset=None, required=False, empty_label=_("Anyone")
    )
    model = forms.ChoiceField(label=_("Object type"), required=False)
    object_id = forms.CharField(label=_("Object id"), max_length=64, required=False)
    q = forms.CharField(label=_("Search"), max_length=120, required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    since = forms.DateField(
        label=_("From"),
        required=False,
        validators=[PlausibleDate()],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        label=_("To"),
        required=False,
        validators=[PlausibleDate()],
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, types=(), actions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].queryset = (
            get_user_model().objects.exclude(role=Role.CUSTOMER).order_by("username")
        )
        self.fields["model"].choices = [("", _("All object types")), *types]
        by_label = sorted((actions or {}).items(), key=lambda t: t[1])
        self.fields["action"].choices = [("", _("All actions")), *by_label]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end is before the start."))
        return data
