"""API shapes of the service desk (api.md "Service desk and collections")."""

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import serializers

from gasworks.lib.dates import PlausibleDate
from gasworks.lib.ids import MAX_ID
from gasworks.safety.models import Crew
from gasworks.service.desk.models import RequestKind, RequestSource, ServiceRequest, WorkOrder


class WorkOrderSerializer(serializers.ModelSerializer):
    crew_name = serializers.CharField(source="crew.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = WorkOrder
        fields = ["number", "crew", "crew_name", "scheduled_at", "finished_at", "result"]


class RequestSerializer(serializers.ModelSerializer):
    overdue = serializers.SerializerMethodField()
    work_order = WorkOrderSerializer(read_only=True, default=None, allow_null=True)

    class Meta:
        model = ServiceRequest
        fields = [
            "id",
            "number",
            "customer",
            "kind",
            "status",
            "due_by",
            "overdue",
            "source",
            "description",
            "opened_at",
            "assigned_to",
            "closed_at",
            "outcome",
            "refused",
            "work_order",
        ]
        read_only_fields = fields

    def get_overdue(self, req) -> bool:
        return req.is_open and req.due_by < timezone.now()


class RequestCreateSerializer(serializers.Serializer):
    # An id, looked up by the view: a customer login may give only its own (or none).
    customer = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    description = serializers.CharField(max_length=4000)
    # A declared field (the metaclass takes it off the class), not the serializer's Field.source.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=[s for s in RequestSource.choices if s[0] != RequestSource.PORTAL], required=False
    )


class RequestAssignSerializer(serializers.Serializer):
    user = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    crew = serializers.PrimaryKeyRelatedField(queryset=Crew.objects.all(), required=False, allow_null=True)
    scheduled_at = serializers.DateTimeField(validators=[PlausibleDate()], required=False, allow_null=True)

    def validate_user(self, value):
        user = get_user_model().objects.filter(pk=value).first()
        if user is None:
            raise serializers.ValidationError("No such user.")
        return user


class RequestCompleteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000)
    old_meter = serializers.CharField(max_length=40, required=False, default="")
    old_reading = serializers.DecimalField(max_digits=13, decimal_places=3, required=False, allow_null=True)
    new_serial_no = serializers.CharField(max_length=40, required=False, default="")
    new_reading = serializers.DecimalField(max_digits=13, decimal_places=3, required=False, allow_null=True)
    new_kind = serializers.CharField(max_length=16, required=False, default="")


class RequestCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)
    refused = serializers.BooleanField(required=False, default=False)
