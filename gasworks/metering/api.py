"""API v1 of metering: meters, readings, device keys and the signed device ingest endpoint."""

from decimal import Decimal
from typing import ClassVar

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from gasworks.accounts.access import is_customer
from gasworks.api.permissions import ActionPerms
from gasworks.customers.models import Customer
from gasworks.errors import DomainError
from gasworks.lib.dates import PlausibleDate
from gasworks.lib.money import DecimalSpec
from gasworks.metering import ingest, services
from gasworks.metering.models import Meter, MeterKind, Reading, ReadingReason

VOLUME: DecimalSpec = {"max_digits": 14, "decimal_places": 3}


class MeterSerializer(serializers.ModelSerializer):
    # A customer's meter names the customer; a supply meter (kind district) its district instead.
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), write_only=True, required=False, allow_null=True
    )
    district = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=MeterKind.choices, default=MeterKind.DIAPHRAGM)
    digits = serializers.IntegerField(min_value=3, max_value=10, default=5)
    initial_reading = serializers.DecimalField(min_value=0, default=Decimal("0"), **VOLUME)
    installed_on = serializers.DateField(validators=[PlausibleDate()], required=False)
    premises = serializers.IntegerField(source="premises_id", read_only=True)

    class Meta:
        model = Meter
        fields = [
            "id",
            "serial_no",
            "customer",
            "premises",
            "district",
            "kind",
            "digits",
            "initial_reading",
            "installed_on",
            "status",
            "removed_on",
            "correction_factor",
            "max_flow_m3h",
        ]
        read_only_fields = ["id", "status", "removed_on"]
        extra_kwargs: ClassVar[dict[str, dict]] = {"serial_no": {"validators": []}}

    def validate(self, attrs):
        """Exactly one of customer and district, by kind (the service checks it again)."""
        district = (attrs.get("district") or "").strip()
        customer = attrs.get("customer")
        errors = {}
        if attrs.get("kind") == MeterKind.DISTRICT:
            if not district:
                errors["district"] = [_("A supply meter needs its district.")]
            if customer is not None:
                errors["customer"] = [_("A supply meter belongs to a district, not to a customer.")]
        else:
            if customer is None:
                errors["customer"] = [_("Required.")]
            if district:
                errors["district"] = [_("Only a supply meter (kind district) has a district.")]
        if errors:
            raise serializers.ValidationError(errors)
        attrs["district"] = district
        return attrs


class ReadingSerializer(serializers.ModelSerializer):
    meter = serializers.CharField(source="meter.serial_no", read_only=True)

    class Meta:
        model = Reading
        fields = [
            "id",
            "meter",
            "value",
            "taken_at",
            "reason",
            "consumption",
            "corrected_consumption",
            "status",
            "flags",
            "pressure_kpa",
            "temperature_c",
            "source",
        ]
        read_only_fields = fields


class ReadingInSerializer(serializers.Serializer):
    meter = serializers.CharField(max_length=40)
    value = serializers.DecimalField(min_value=0, **VOLUME)
    taken_at = serializers.DateTimeField(validators=[PlausibleDate()])
    reason = serializers.ChoiceField(choices=ReadingReason.choices, default=ReadingReason.PERIODIC)
    pressure_kpa = serializers.DecimalField(max_digits=10, decimal_places=3, required=False, allow_null=True)
    temperature_c = serializers.DecimalField(max_digits=6, decimal_places=2, required=False, allow_null=True)

    def validate_meter(self, serial):
        meter = Meter.objects.filter(serial_no=serial.strip()).first()
        if meter is None:
            raise serializers.ValidationError(_("Unknown meter."))
        return meter


class ReviewSerializer(serializers.Serializer):
    value = serializers.DecimalField(min_value=0, required=False, **VOLUME)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class MeterViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = MeterSerializer
    permission_classes = [ActionPerms]
    customer_actions = ("list", "retrieve", "readings")
    action_perms = {
        "list": ["metering.view_meter"],
        "retrieve": ["metering.view_meter"],
        "readings": ["metering.view_reading"],
        "create": ["metering.add_meter"],
        "device_key": ["metering.manage_device_keys"],
    }

    def get_queryset(self):
        queryset = Meter.objects.order_by("pk")
        kind = self.request.query_params.get("kind", "")
        if kind in MeterKind.values:
            queryset = queryset.filter(kind=kind)
        user = self.request.user
        if is_customer(user):
            premises = Customer.objects.filter(pk=user.customer_id).values("premises_id")
            return queryset.filter(premises_id__in=premises)
        return queryset

    def perform_create(self, serializer):
        data = serializer.validated_data
        customer = data.get("customer")
        serializer.instance = services.install_meter(
            data["serial_no"],
            customer.premises if customer is not None else None,
            kind=data["kind"],
            digits=data["digits"],
            initial_reading=data["initial_reading"],
            installed_on=data.get("installed_on"),
            by=self.request.user,
            correction_factor=data.get("correction_factor"),
            max_flow_m3h=data.get("max_flow_m3h"),
            district=data["district"],
        )

    @extend_schema(responses=ReadingSerializer(many=True))
    @action(detail=True, methods=["get"])
    def readings(self, request, pk=None):
        meter = self.get_object()
        queryset = Reading.objects.filter(meter=meter).select_related("meter").order_by("-taken_at")
        if is_customer(request.user):
            queryset = queryset.filter(customer_id=request.user.customer_id)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(ReadingSerializer(page, many=True).data)

    @extend_schema(
        request=None, responses={201: inline_serializer("DeviceKey", {"key": serializers.CharField()})}
    )
    @action(detail=True, methods=["post"], url_path="device-key")
    def device_key(self, request, pk=None):
        key = ingest.issue_key(self.get_object(), by=request.user)
        return Response({"key": key}, status=status.HTTP_201_CREATED)


class ReadingViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ReadingSerializer
    permission_classes = [ActionPerms]
    customer_actions = ("retrieve",)
    action_perms = {
        "retrieve": ["metering.view_reading"],
        "create": ["metering.add_reading"],
        "approve": ["metering.review_reading"],
        "correct": ["metering.review_reading"],
        "reject": ["metering.review_reading"],
    }

    def get_queryset(self):
        queryset = Reading.objects.select_related("meter").order_by("pk")
        if is_customer(self.request.user):
            return queryset.filter(customer_id=self.request.user.customer_id)
        return queryset

    @extend_schema(request=ReadingInSerializer, responses={201: ReadingSerializer})
    def create(self, request, *args, **kwargs):
        form = ReadingInSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        reading = services.record_reading(
            data["meter"],
            data["value"],
            data["taken_at"],
            reason=data["reason"],
            pressure_kpa=data.get("pressure_kpa"),
            temperature_c=data.get("temperature_c"),
            by=request.user,
            source="api",
        )
        return Response(ReadingSerializer(reading).data, status=status.HTTP_201_CREATED)

    def _review(self, request, decide):
        form = ReviewSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        reading = decide(self.get_object(), form.validated_data)
        return Response(ReadingSerializer(reading).data)

    @extend_schema(request=ReviewSerializer, responses=ReadingSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._review(request, lambda r, d: services.approve(r, by=request.user, note=d["note"]))

    @extend_schema(request=ReviewSerializer, responses=ReadingSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._review(request, lambda r, d: services.reject(r, by=request.user, note=d["note"]))

    @extend_schema(request=ReviewSerializer, responses=ReadingSerializer)
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        def decide(reading, data):
            if "value" not in data:
                raise DomainError("invalid", _("Give the corrected value."), {"value": [_("Required.")]}, 400)
            return services.correct(reading, data["value"], by=request.user, note=data["note"])

        return self._review(request, decide)


class IngestView(APIView):
    """Signed device batches. No user: the device authenticates each body by its HMAC."""

    permission_classes = [AllowAny]
    api_errors = {"post": (400, 401, 409)}  # 401: unknown device or bad signature
    authentication_classes: list = []
    throttle_classes: list = []

    @extend_schema(
        request=inline_serializer(
            "IngestBody", {"readings": serializers.ListField(child=serializers.DictField())}
        ),
        responses={
            200: inline_serializer(
                "IngestResult",
                {
                    "accepted": serializers.IntegerField(),
                    "duplicates": serializers.IntegerField(),
                    "rejected": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
    )
    def post(self, request):
        body = request.body  # the raw bytes the signature covers
        message = ingest.Message(
            request.headers.get("X-Device", "").strip(), body, request.headers.get("X-Signature", "")
        )
        outcome = ingest.ingest([message])[0]
        return Response(outcome.body, status=outcome.status)
