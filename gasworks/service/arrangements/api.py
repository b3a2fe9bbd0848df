"""API: an account's payment arrangements (api.md "Service desk and collections").

POST /api/v1/customers/{id}/arrangements/ {"down_payment", "instalments", "first_due_on"} → 201
{"id", "total", "instalments": [{"due_on", "amount"}]} (the down payment is not an instalment:
it is given back as "down_payment"). Extensions: "schedule": [{"due_on", "amount"}] instead of
"instalments" and "first_due_on" (dates and amounts chosen by the staff; they must sum); an
optional Idempotency-Key (a retry with the same key and body gets the first answer; api.md does
not ask for the header here, so it stays optional). GET lists the account's arrangements,
newest first (staff with the view permission, and the customer itself); POST
/api/v1/arrangements/{id}/cancel/ calls one off (manager, admin)."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gasworks.accounts.access import is_customer
from gasworks.api import idempotency
from gasworks.api.lookups import get_object_or_404
from gasworks.customers.models import Customer
from gasworks.lib.dates import PlausibleDate
from gasworks.service.arrangements import services
from gasworks.service.arrangements.models import Arrangement, ArrangementStatus


class PartSerializer(serializers.Serializer):
    due_on = serializers.DateField(validators=[PlausibleDate()])
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)


class CreateSerializer(serializers.Serializer):
    down_payment = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, default=Decimal(0))
    instalments = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    first_due_on = serializers.DateField(required=False, validators=[PlausibleDate()])
    schedule = serializers.ListField(child=PartSerializer(), required=False, max_length=1000)
    note = serializers.CharField(max_length=200, required=False, default="")

    def validate(self, data):
        if "schedule" in data:
            if "first_due_on" in data:
                raise serializers.ValidationError(
                    {"first_due_on": ["Give either a schedule or first_due_on."]}
                )
            if data.get("instalments") not in (None, len(data["schedule"])):
                raise serializers.ValidationError({"instalments": ["Must equal the schedule's length."]})
        elif "instalments" not in data or "first_due_on" not in data:
            missing = [f for f in ("instalments", "first_due_on") if f not in data]
            raise serializers.ValidationError({f: ["This field is required."] for f in missing})
        return data


class InstalmentOut(serializers.Serializer):
    due_on = serializers.DateField(read_only=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    owed = serializers.DecimalField(max_digits=14, decimal_places=2)
    met_on = serializers.DateField(allow_null=True, read_only=True)


class ArrangementOut(serializers.Serializer):
    """The answer's shape (for the schema; as_json writes it)."""

    id = serializers.IntegerField()
    customer = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ArrangementStatus.choices)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    down_payment = serializers.DecimalField(max_digits=14, decimal_places=2)
    paid = serializers.DecimalField(max_digits=14, decimal_places=2)
    created_on = serializers.DateField(read_only=True)
    ended_on = serializers.DateField(allow_null=True, read_only=True)
    end_reason = serializers.CharField()
    instalments = InstalmentOut(many=True)


def as_json(arrangement: Arrangement) -> dict:
    parts = list(arrangement.instalments.order_by("seq"))
    met = dict((part.pk, owed) for part, owed in services.owed_on(arrangement, parts))
    return {
        "id": arrangement.pk,
        "customer": arrangement.customer_id,
        "status": arrangement.status,
        "total": f"{arrangement.total:.2f}",
        "down_payment": f"{arrangement.down_payment:.2f}",
        "paid": f"{arrangement.paid:.2f}",
        "created_on": arrangement.created_on.isoformat(),
        "ended_on": arrangement.ended_on.isoformat() if arrangement.ended_on else None,
        "end_reason": arrangement.end_reason,
        "instalments": [
            {
                "due_on": part.due_on.isoformat(),
                "amount": f"{part.amount:.2f}",
                "owed": f"{met[part.pk]:.2f}",
                "met_on": part.met_on.isoformat() if part.met_on else None,
            }
            for part in parts
            if not part.is_down_payment
        ],
    }


def _customer_for(request, pk: int, perm: str) -> Customer:
    # Refused before the lookup: a caller without the right learns nothing of who exists.
    user = request.user
    if is_customer(user):
        if user.customer_id != pk or perm != "service.view_arrangement":
            raise PermissionDenied()
    elif not user.has_perm(perm):
        raise PermissionDenied()
    return get_object_or_404(Customer, pk=pk)


class CustomerArrangements(APIView):
    permission_classes = [IsAuthenticated]

    serializer_class = ArrangementOut

    @extend_schema(responses={200: ArrangementOut(many=True)})
    def get(self, request, pk: int):
        customer = _customer_for(request, pk, "service.view_arrangement")
        return Response([as_json(a) for a in Arrangement.objects.filter(customer=customer).order_by("-pk")])

    @extend_schema(
        request=CreateSerializer,
        responses={201: ArrangementOut},
        parameters=[idempotency.OPTIONAL_KEY],
    )
    def post(self, request, pk: int):
        customer = _customer_for(request, pk, "service.add_arrangement")

        def make_it():
            data = CreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            terms = data.validated_data
            parts = [(p["due_on"], p["amount"]) for p in terms["schedule"]] if "schedule" in terms else None
            arrangement = services.make_arrangement(
                customer,
                by=request.user,
                note=terms["note"],
                down_payment=terms["down_payment"],
                instalments=terms.get("instalments"),
                first_due_on=terms.get("first_due_on"),
                parts=parts,
            )
            return as_json(arrangement), 201

        return idempotency.run_maybe_once(f"arrangements:{pk}", request, make_it)


class CancelArrangement(APIView):
    permission_classes = [IsAuthenticated]

    serializer_class = ArrangementOut

    @extend_schema(request=None, responses={200: ArrangementOut})
    def post(self, request, pk: int):
        if is_customer(request.user) or not request.user.has_perm("service.cancel_arrangement"):
            raise PermissionDenied()
        arrangement = get_object_or_404(Arrangement, pk=pk)
        return Response(as_json(services.cancel(arrangement, by=request.user)))
