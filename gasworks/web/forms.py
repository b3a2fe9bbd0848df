from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from gasworks.accounts.roles import Role
from gasworks.customers.models import Category, GasUse


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


class TransferForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("New holder's name"), max_length=120)
    phone = forms.CharField(label=_("New holder's phone"), max_length=32)
    household_size = forms.IntegerField(label=_("Household size"), min_value=1, max_value=99, initial=1)
    id_number = forms.CharField(label=_("ID or business licence number"), max_length=32, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)


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
