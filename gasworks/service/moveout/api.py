"""API v1 of service.moveout: `POST /api/v1/customers/{id}/move-out/` and `.../transfer/` with
an Idempotency-Key. Thin: the body through a serializer into a services.MoveOutOrder, one call
of services.move_out, the move-out answered with its final bill and settlement."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from gasworks.api import idempotency
from gasworks.api.idempotency import idempotent_response
from gasworks.api.lookups import get_object_or_404
from gasworks.api.permissions import ActionPerms
from gasworks.customers.models import Customer
from gasworks.customers.services import CustomerData
from gasworks.metering.models import Meter
from gasworks.service.moveout import services
from gasworks.service.moveout.models import MoveOut, Settlement


class FinalReadingIn(serializers.Serializer):
    meter = serializers.CharField(help_text="The meter's serial number.")
    value = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0, required=False)
    reading = serializers.IntegerField(required=False, help_text="An existing reading of today, by id.")


class NewHolderIn(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    phone = serializers.CharField(max_length=32)
    household_size = serializers.IntegerField(min_value=1, max_value=99, default=1)
    id_number = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)


class MoveOutIn(serializers.Serializer):
    readings = FinalReadingIn(many=True)
    confirm_flagged = serializers.BooleanField(default=False)
    settlement = serializers.ChoiceField(choices=[c for c in Settlement.values if c != Settlement.NONE])
    consent_by = serializers.CharField(max_length=120, required=False, default="", allow_blank=True)
    reason = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)
    request = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class TransferIn(MoveOutIn):
    new_holder = NewHolderIn()


def _money(value) -> str:
    return f"{value:.2f}"


def answer(row: MoveOut) -> dict:
    """The move-out as the API shows it: decimals as strings, dates ISO."""
    bill = services.bill_summary(row.final_bill)
    return {
        "id": row.pk,
        "customer": row.customer_id,
        "new_customer": row.new_customer_id,
        "kind": row.kind,
        "day": row.day.isoformat(),
        "request": row.request_id,
        "final_reading": {
            "id": row.final_reading_id,
            "meter": row.final_reading.meter.serial_no,
            "value": str(row.final_reading.value),
            "status": row.final_reading.status,
        },
        "final_bill": bill
        and {
            "id": bill["id"],
            "period": bill["period"],
            "period_start": bill["period_start"].isoformat(),
            "period_end": bill["period_end"].isoformat(),
            "volume": str(bill["volume"]),
            "total": _money(bill["total"]),
            "lines": [
                {
                    "tier": line["tier"],
                    "volume": str(line["volume"]),
                    "unit_price": str(line["unit_price"]),
                    "amount": _money(line["amount"]),
                }
                for line in bill["lines"]
            ],
        },
        "settlement": {
            "how": row.settlement,
            "balance": _money(row.balance),
            "amount": _money(row.settled_amount),
            "consent_by": row.consent_by,
            "consented_at": row.consented_at.isoformat() if row.consented_at else None,
            "refunds": [
                {"id": r.pk, "payment": r.payment_id, "amount": _money(r.amount), "status": r.status}
                for r in services.refunds_of(row)
            ],
        },
    }


class _MoveOutView(APIView):
    permission_classes = [ActionPerms]
    action_perms = {"post": ["service.move_out_customer"]}
    api_errors = {"post": (400, 401, 403, 404, 409)}
    transfer = False
    serializer_class = MoveOutIn

    def post(self, request, pk):
        customer = get_object_or_404(Customer.objects.select_related("premises"), pk=pk)
        form = self.serializer_class(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        request_id = data.get("request") or _query_request(request)
        order = services.MoveOutOrder(
            readings=_readings(customer, data["readings"]),
            settlement=data["settlement"],
            new_holder=_holder(customer, data["new_holder"]) if self.transfer else None,
            confirm_flagged=data["confirm_flagged"],
            consent_by=data["consent_by"],
            reason=data["reason"],
            request_id=request_id,
        )

        def act():
            row = services.move_out(customer, order, by=request.user)
            return answer(row), 201

        scope = "transfer" if self.transfer else "move_out"
        body, code, replayed = idempotency.run_once(
            scope, request.user, request.headers.get(idempotency.HEADER), request.data, act
        )
        return idempotent_response(body, code, replayed)


def _query_request(request) -> int | None:
    raw = request.query_params.get("request", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def _readings(customer, rows) -> tuple[services.FinalReading, ...]:
    """Serial numbers to the premises' meters; an unknown serial is left for the service to
    refuse as a missing final reading (a meter elsewhere is never read here)."""
    meters = {m.serial_no: m.pk for m in Meter.objects.filter(premises_id=customer.premises_id)}
    return tuple(
        services.FinalReading(
            meters.get(row["meter"], 0), value=row.get("value"), reading_id=row.get("reading")
        )
        for row in rows
    )


def _holder(customer, data) -> CustomerData:
    return CustomerData(
        name=data["name"],
        category=customer.category,
        phone=data["phone"],
        address=customer.premises.address,
        household_size=data["household_size"],
        gas_use=customer.gas_use,
        id_number=data["id_number"],
    )


IDEMPOTENCY = [OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True)]
REQUEST = [OpenApiParameter("request", int, description="The service desk's request this completes.")]


class MoveOutView(_MoveOutView):
    @extend_schema(request=MoveOutIn, parameters=IDEMPOTENCY + REQUEST, responses={201: dict})
    def post(self, request, pk):
        """Move the account out: final reading, final bill, settlement, account closed."""
        return super().post(request, pk)


class TransferView(_MoveOutView):
    transfer = True
    serializer_class = TransferIn

    @extend_schema(request=TransferIn, parameters=IDEMPOTENCY + REQUEST, responses={201: dict})
    def post(self, request, pk):
        """Name transfer: final reading, final bill, settlement, old account closed, new opened."""
        return super().post(request, pk)
