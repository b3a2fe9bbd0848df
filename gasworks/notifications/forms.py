from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gasworks.lib.dates import PlausibleDate
from gasworks.notifications import texts
from gasworks.notifications.models import Channel, MessageStatus, Template
from gasworks.notifications.preferences import CHOOSABLE


class Checks(forms.CheckboxSelectMultiple):
    """Check boxes in Bootstrap's form-check markup, two columns from a tablet up (Django's own
    markup, a label around each box, lays out one word a line on a phone)."""

    template_name = "notifications/_checks.html"

    def __init__(self):
        super().__init__(attrs={"class": "form-check-input"})  # (a class: the bootstrap filter leaves it)


class PreferenceForm(forms.Form):
    sms = forms.BooleanField(label=_("SMS"), required=False)
    wechat = forms.BooleanField(label=_("WeChat"), required=False)
    email = forms.BooleanField(label=_("Email"), required=False)
    email_address = forms.EmailField(label=_("Email address"), required=False)
    language = forms.ChoiceField(label=_("Language"), choices=[("zh-hans", "简体中文"), ("en", "English")])
    opt_out = forms.MultipleChoiceField(
        label=_("Do not send me"),
        required=False,
        widget=Checks,
        help_text=_("Safety messages (supply interruptions, hazards, emergencies) are always sent."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["opt_out"].choices = [(code, texts.KINDS[code].label) for code in CHOOSABLE]

    def clean(self):
        data = super().clean()
        if data.get("email") and not data.get("email_address"):
            self.add_error("email_address", _("Give an address to get mail."))
        return data


class OutboxFilter(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *MessageStatus.choices]
    )
    channel = forms.ChoiceField(
        label=pgettext_lazy("message", "Channel"), required=False, choices=[("", _("All")), *Channel.choices]
    )
    event = forms.ChoiceField(label=_("Event"), required=False)
    account = forms.CharField(label=_("Account number"), required=False, max_length=16)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].choices = [("", _("All"))] + [(c, k.label) for c, k in texts.KINDS.items()]


class TemplateForm(forms.ModelForm):
    class Meta:
        model = Template
        fields = ["event", "channel", "language", "subject", "body", "provider_template"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"] = forms.ChoiceField(
            label=_("Event"), choices=[(c, k.label) for c, k in texts.KINDS.items()]
        )
        self.fields["language"] = forms.ChoiceField(
            label=_("Language"), choices=[("zh-hans", "简体中文"), ("en", "English")]
        )

    def clean(self):
        data = super().clean()
        event = data.get("event")
        for field in ("subject", "body"):
            value = data.get(field) or ""
            if not event:
                continue
            try:
                texts.check(event, value)
            except texts.UnknownVariable as exc:
                self.add_error(
                    field,
                    _("This event has no variable %(names)s. It may use: %(allowed)s.")
                    % {"names": str(exc), "allowed": ", ".join(texts.KINDS[event].variables + texts.COMMON)},
                )
        return data


class InterruptionForm(forms.Form):
    district = forms.ChoiceField(label=_("District"))
    streets = forms.CharField(
        label=_("Streets (optional)"),
        required=False,
        max_length=1000,
        help_text=_("One per line; empty means the whole district."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    starts_at = forms.DateTimeField(
        label=_("Starts at"),
        validators=[PlausibleDate()],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at"),
        validators=[PlausibleDate()],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from gasworks.customers.models import Premises

        districts = Premises.objects.exclude(district="").values_list("district", flat=True).distinct()
        self.fields["district"].choices = [(d, d) for d in sorted(districts)]

    def street_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("streets", "").splitlines() if line.strip()]
