"""API shapes of the safety app: inspections and their checklist results, hazards, emergencies."""

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from gasworks.customers.models import Customer
from gasworks.lib.dates import PlausibleDate
from gasworks.safety.models import (
    Crew,
    Emergency,
    Hazard,
    HazardLevel,
    HazardStatus,
    InspectionTask,
    ItemResultValue,
    Photo,
    Priority,
)


class PhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = ["id", "kind", "url", "width", "height", "caption", "uploaded_at"]

    def get_url(self, photo) -> str:
        # The view that checks who asks (a session or the same Token), never the file's own address.
        return reverse("safety:photo", args=[photo.pk])


class InspectionSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    account_no = serializers.CharField(source="customer.account_no", read_only=True)
    address = serializers.CharField(source="premises.address", read_only=True)
    checklist_version = serializers.IntegerField(
        source="template.version", read_only=True, default=None, allow_null=True
    )
    results = serializers.SerializerMethodField()
    hazards: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    photos = PhotoSerializer(many=True, read_only=True)

    class Meta:
        model = InspectionTask
        fields = [
            "id",
            "customer",
            "customer_name",
            "account_no",
            "address",
            "district",
            "kind",
            "due_on",
            "status",
            "inspector",
            "appointment_at",
            "appointment_end",
            "follow_up_of",
            "checklist_version",
            "started_at",
            "finished_at",
            "confirmed_by_name",
            "customer_confirmed",
            "signature",
            "note",
            "results",
            "hazards",
            "photos",
        ]
        read_only_fields = fields

    def get_results(self, task) -> list[dict]:
        return [
            {"item": r.item.code, "label": r.item.label, "result": r.result, "note": r.note}
            for r in task.results.all()
        ]


class PhotoUploadSerializer(serializers.Serializer):
    photo = serializers.ImageField()


class InspectionCreateSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    due_on = serializers.DateField(validators=[PlausibleDate()])
    inspector = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), required=False, allow_null=True
    )
    appointment_at = serializers.DateTimeField(validators=[PlausibleDate()], required=False, allow_null=True)


class AssignSerializer(serializers.Serializer):
    inspector = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all())
    appointment_at = serializers.DateTimeField(validators=[PlausibleDate()], required=False, allow_null=True)


class AppointmentSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(validators=[PlausibleDate()])
    ends_at = serializers.DateTimeField(validators=[PlausibleDate()])


class ResultSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=40)
    result = serializers.ChoiceField(choices=ItemResultValue.choices)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    hazard_level = serializers.ChoiceField(
        choices=HazardLevel.choices, required=False, allow_blank=True, default=""
    )


class CompleteSerializer(serializers.Serializer):
    results = ResultSerializer(many=True, allow_empty=False)
    confirmed_by_name = serializers.CharField(max_length=60)
    customer_confirmed = serializers.BooleanField()
    signature = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class HazardSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    account_no = serializers.CharField(source="customer.account_no", read_only=True)
    address = serializers.CharField(source="customer.premises.address", read_only=True)
    overdue = serializers.SerializerMethodField()
    photos = PhotoSerializer(many=True, read_only=True)

    class Meta:
        model = Hazard
        fields = [
            "id",
            "notice_no",
            "customer",
            "customer_name",
            "account_no",
            "address",
            "level",
            "description",
            "deadline",
            "status",
            "overdue",
            "task",
            "raised_at",
            "rectified_at",
            "rectification_note",
            "closed_at",
            "reinspection_note",
            "reopen_count",
            "photos",
        ]
        read_only_fields = fields

    def get_overdue(self, hazard) -> bool:
        return hazard.status == HazardStatus.OPEN and hazard.deadline < timezone.localdate()


class HazardCreateSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    level = serializers.ChoiceField(choices=HazardLevel.choices)
    description = serializers.CharField(max_length=2000)
    deadline = serializers.DateField(validators=[PlausibleDate()], required=False, allow_null=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class EmergencySerializer(serializers.ModelSerializer):
    crew_name = serializers.CharField(source="crew.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Emergency
        fields = [
            "id",
            "customer",
            "address",
            "description",
            "priority",
            "contact_phone",
            "status",
            "crew",
            "crew_name",
            "reported_at",
            "dispatched_at",
            "arrived_at",
            "resolved_at",
            "resolution",
        ]
        read_only_fields = fields


class EmergencyCreateSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), required=False, allow_null=True
    )
    address = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=2000)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.HIGH)
    contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class ResponseTimesSerializer(serializers.Serializer):
    """Emergencies not cancelled: how many, and minutes from the report to dispatch and to the
    crew's arrival (mean and 90th percentile; null while there is nothing to measure)."""

    count = serializers.IntegerField()
    dispatch_mean_min = serializers.FloatField(allow_null=True)
    dispatch_p90_min = serializers.FloatField(allow_null=True)
    arrival_mean_min = serializers.FloatField(allow_null=True)
    arrival_p90_min = serializers.FloatField(allow_null=True)


class DispatchSerializer(serializers.Serializer):
    crew = serializers.PrimaryKeyRelatedField(queryset=Crew.objects.all())


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=2000)
