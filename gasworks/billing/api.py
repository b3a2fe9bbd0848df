"""API v1 of billing: tariffs, billing runs, bills. Running a period again creates no second
bill; amounts and volumes are decimal strings."""

from collections.abc import Mapping

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gasworks.accounts.access import scope_to_customer
from gasworks.api.lookups import get_object_or_404, id_param
from gasworks.api.permissions import ActionPerms
from gasworks.api.serializers import decimal_for
from gasworks.billing import held_back, runs, tariffs
from gasworks.billing.models import Bill, BillingRun, Tariff, TariffTier
from gasworks.lib.dates import PlausibleDate


class TierSerializer(serializers.Serializer):
    up_to = decimal_for(TariffTier, "up_to", allow_null=True)
    price = decimal_for(TariffTier, "price")


class TariffSerializer(serializers.ModelSerializer):
    effective_from = serializers.DateField(validators=[PlausibleDate()], write_only=True)
    tiers = TierSerializer(many=True, write_only=True)
    gas_use = serializers.CharField(required=False, allow_blank=True, default="")
    minimum_charge = decimal_for(Tariff, "minimum_charge", required=False, default="0")
    meter_rent = decimal_for(Tariff, "meter_rent", required=False, default="0")
    versions = serializers.SerializerMethodField()

    class Meta:
        model = Tariff
        fields = [
            "id",
            "name",
            "category",
            "gas_use",
            "minimum_charge",
            "meter_rent",
            "effective_from",
            "tiers",
            "versions",
        ]
        validators: list = []  # (category, gas_use) exists → the service adds a price version

    def get_versions(self, tariff) -> list[dict]:
        return [
            {
                "effective_from": v.effective_from.isoformat(),
                "tiers": [
                    {"up_to": None if t.up_to is None else f"{t.up_to:f}", "price": f"{t.price:f}"}
                    for t in v.tiers.all()
                ],
            }
            for v in tariff.versions.all()
        ]


class TariffViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = TariffSerializer
    permission_classes = [ActionPerms]
    action_perms = {
        "list": ["billing.view_tariff"],
        "retrieve": ["billing.view_tariff"],
        "create": ["billing.add_tariff"],
    }

    def get_queryset(self):
        return Tariff.objects.prefetch_related("versions__tiers").order_by("pk")

    def create(self, request, *args, **kwargs):
        # Tier validation belongs to the service (one set of rules and codes for page and API),
        # so the raw tiers are passed on as sent.
        if not isinstance(request.data, Mapping):  # a list or a bare value: the serializer's own 400
            self.get_serializer(data=request.data).is_valid(raise_exception=True)
        payload = request.data.dict() if hasattr(request.data, "dict") else dict(request.data)
        raw_tiers = payload.get("tiers")
        form = self.get_serializer(data={**payload, "tiers": []})
        form.is_valid(raise_exception=True)
        v = form.validated_data
        tariff = tariffs.create_tariff(
            name=v["name"],
            category=v["category"],
            effective_from=v["effective_from"],
            tiers=raw_tiers,
            gas_use=v.get("gas_use", ""),
            minimum_charge=v.get("minimum_charge", "0"),
            meter_rent=v.get("meter_rent", "0"),
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=tariff.pk)).data, status=status.HTTP_201_CREATED
        )


class HeldAccountSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    account_no = serializers.CharField()
    name = serializers.CharField()
    reason = serializers.CharField(help_text="one of: " + ", ".join(held_back.REASONS))
    detail = serializers.CharField(allow_blank=True)


class HeldBackSerializer(serializers.Serializer):
    """Accounts a finished run did not bill: counts by reason, and up to 100 accounts each."""

    counts = serializers.DictField(child=serializers.IntegerField())
    accounts = HeldAccountSerializer(many=True)


class RunSerializer(serializers.ModelSerializer):
    held_back = serializers.SerializerMethodField()

    @extend_schema_field(HeldBackSerializer)
    def get_held_back(self, run) -> dict:
        held = run.held_back or {}
        return {"counts": held.get("counts", {}), "accounts": held.get("accounts", [])}

    class Meta:
        model = BillingRun
        fields = [
            "id",
            "period",
            "status",
            "bills_created",
            "accounts_total",
            "parked",
            "progress",
            "error",
            "held_back",
        ]
        read_only_fields = fields


class RunRequest(serializers.Serializer):
    period = serializers.CharField()


class BillingRunViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = RunSerializer
    permission_classes = [ActionPerms]
    queryset = BillingRun.objects.order_by("-pk")
    action_perms = {
        "list": ["billing.view_billingrun"],
        "retrieve": ["billing.view_billingrun"],
        "create": ["billing.run_billing"],
    }

    @extend_schema(request=RunRequest, responses={202: RunSerializer})
    def create(self, request):
        form = RunRequest(data=request.data)
        form.is_valid(raise_exception=True)
        run = runs.start_run(form.validated_data["period"], by=request.user)
        try:
            run = runs.execute(run)
        except Exception:
            run.refresh_from_db()
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class BillLineSerializer(serializers.Serializer):
    tier = serializers.IntegerField()
    volume = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=4)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class BillSerializer(serializers.ModelSerializer):
    lines = BillLineSerializer(many=True, read_only=True)

    class Meta:
        model = Bill
        fields = [
            "id",
            "customer",
            "period",
            "volume",
            "total",
            "status",
            "lines",
            "minimum_top_up",
            "meter_rent",
            "previous_balance",
            "issued_on",
            "due_on",
        ]
        read_only_fields = fields


class BillViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = BillSerializer
    permission_classes = [ActionPerms]
    customer_actions = ("list", "retrieve", "pdf")
    action_perms = {
        "list": ["billing.view_bill"],
        "retrieve": ["billing.view_bill"],
        "pdf": ["billing.view_bill"],
    }

    def get_queryset(self):
        queryset = scope_to_customer(
            self.request.user,
            Bill.objects.prefetch_related("lines").order_by("-period", "pk"),
            "customer",
            "billing.view_bill",
        )
        params = self.request.query_params
        customer = id_param(self.request, "customer")
        if customer is not None:
            queryset = queryset.filter(customer_id=customer)
        if params.get("period"):
            queryset = queryset.filter(period=params["period"])
        return queryset

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        from gasworks.billing.pdf import render_bill

        bill = get_object_or_404(self.get_queryset(), pk=pk)
        language = request.query_params.get("lang") or getattr(request, "LANGUAGE_CODE", "en")
        response = HttpResponse(render_bill(bill, language), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="bill-{bill.customer_id}-{bill.period}.pdf"'
        return response
