from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gasworks.lib.dates import PlausibleDate


class RunForm(forms.Form):
    as_of = forms.DateField(
        label=_("As of"),
        validators=[PlausibleDate(past_years=5, future_years=1)],
        widget=forms.DateInput(
            format="%Y-%m-%d", attrs={"type": "date", "class": "form-control form-control-sm"}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["as_of"].initial = timezone.localdate()
