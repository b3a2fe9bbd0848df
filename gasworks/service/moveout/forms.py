"""The move-out page's form: input parsed into a services.MoveOutOrder, nothing decided here."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gasworks.customers.services import CustomerData
from gasworks.service.moveout.models import MoveOutKind, Settlement
from gasworks.service.moveout.services import FinalReading, MoveOutOrder
from gasworks.web.forms import BootstrapMixin, bootstrap_class

NEW_HOLDER_FIELDS = ("name", "phone", "household_size", "id_number")


class MoveOutForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("What happens"), choices=MoveOutKind.choices, widget=forms.RadioSelect)
    confirm_flagged = forms.BooleanField(label=_("I checked the flagged reading: use it"), required=False)
    name = forms.CharField(label=_("New holder's name"), max_length=120, required=False)
    phone = forms.CharField(label=_("New holder's phone"), max_length=32, required=False)
    household_size = forms.IntegerField(label=_("Household size"), min_value=1, max_value=99, required=False)
    id_number = forms.CharField(label=_("ID or business licence number"), max_length=32, required=False)
    settlement = forms.ChoiceField(
        label=_("Settle the balance"),
        choices=[c for c in Settlement.choices if c[0] != Settlement.NONE],
        widget=forms.RadioSelect,
        initial=Settlement.KEEP,
    )
    consent_by = forms.CharField(
        label=_("Consent to carry given by"),
        max_length=120,
        required=False,
        help_text=_("The old holder's name, as they consented to carrying the balance to the new account."),
    )
    reason = forms.CharField(label=_("Note"), max_length=255, required=False)
    request = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, customer, meters, readings_today, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer, self.meters = customer, meters
        self.meter_fields = []
        for meter in meters:
            value = forms.DecimalField(
                label=_("Final reading of meter %(serial)s (m³)") % {"serial": meter.serial_no},
                min_value=0,
                max_digits=14,
                decimal_places=3,
                required=False,
            )
            today = [r for r in readings_today if r.meter_id == meter.pk]
            pick = forms.TypedChoiceField(
                label=_("or a reading taken today"),
                choices=[("", _("— take a new reading —"))]
                + [
                    (
                        r.pk,
                        f"{timezone.localtime(r.taken_at):%H:%M} · {r.value} m³ · {r.get_status_display()}",
                    )
                    for r in today
                ],
                coerce=int,
                empty_value=None,
                required=False,
            )
            for field in (value, pick):  # added after BootstrapMixin styled the others
                field.widget.attrs.setdefault("class", bootstrap_class(field.widget))
            self.fields[f"value_{meter.pk}"] = value
            self.fields[f"reading_{meter.pk}"] = pick
            self.meter_fields.append((meter, self[f"value_{meter.pk}"], self[f"reading_{meter.pk}"]))

    def holder_fields(self):
        return [self[name] for name in NEW_HOLDER_FIELDS]

    def order(self) -> MoveOutOrder:
        data = self.cleaned_data
        holder = None
        if data["kind"] == MoveOutKind.TRANSFER:
            holder = CustomerData(
                name=data["name"] or "",
                category=self.customer.category,
                phone=data["phone"] or "",
                address=self.customer.premises.address,
                household_size=data["household_size"] or 1,
                gas_use=self.customer.gas_use,
                id_number=data["id_number"] or "",
            )
        readings = tuple(
            FinalReading(
                meter.pk, value=data.get(f"value_{meter.pk}"), reading_id=data.get(f"reading_{meter.pk}")
            )
            for meter in self.meters
        )
        return MoveOutOrder(
            readings=readings,
            settlement=data["settlement"],
            new_holder=holder,
            confirm_flagged=data["confirm_flagged"],
            consent_by=data["consent_by"],
            reason=data["reason"],
            request_id=data["request"],
        )
