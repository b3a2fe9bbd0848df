"""Serializers of the LPG orders and cylinder returns API: answers (model serializers) and
request bodies (plain serializers the views validate before calling one service)."""

from decimal import Decimal

from rest_framework import serializers

from gasworks.accounts.access import is_customer
from gasworks.customers.models import Customer
from gasworks.cylinders import orders
from gasworks.cylinders.models import CylinderModel, CylinderReturn, DeliveryLine, LpgOrder
from gasworks.lib.money import DecimalSpec

KG: DecimalSpec = {"max_digits": 8, "decimal_places": 3}


class DeliveryLineSerializer(serializers.ModelSerializer):
    cylinder: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = DeliveryLine
        fields = ["cylinder", "direction", "net_kg", "residual_kg", "amount"]


class LpgOrderSerializer(serializers.ModelSerializer):
    lines = DeliveryLineSerializer(many=True, read_only=True)
    worker: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = LpgOrder
        fields = [
            "id",
            "customer",
            "model",
            "quantity",
            "channel",
            "status",
            "note",
            "worker",
            "vehicle",
            "amount",
            "deposit_amount",
            "deposits_taken",
            "empties_returned",
            "created_at",
            "delivered_at",
            "lines",
        ]
        read_only_fields = fields


class LpgOrderCreateSerializer(serializers.Serializer):
    """A customer login orders for itself (customer may be omitted); staff name the customer.
    Another customer's id is answered like an unknown one."""

    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all(), required=False)
    model = serializers.ChoiceField(choices=CylinderModel.choices)
    quantity = serializers.IntegerField(min_value=1, max_value=orders.MAX_QUANTITY)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["customer"]
        if user is not None and is_customer(user):
            field.queryset = Customer.objects.filter(pk=user.customer_id)
        else:
            field.required = True


class LpgAssignSerializer(serializers.Serializer):
    worker = serializers.PrimaryKeyRelatedField(queryset=orders.delivery_workers())
    vehicle = serializers.CharField(max_length=20)


class LpgLoadSerializer(serializers.Serializer):
    out_codes = serializers.ListField(
        child=serializers.CharField(max_length=32), min_length=1, max_length=orders.MAX_QUANTITY
    )


class LpgEmptyBackSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)
    gross_kg = serializers.DecimalField(
        required=False, allow_null=True, min_value=Decimal("0.001"), max_value=Decimal("999.999"), **KG
    )


class LpgDeliverSerializer(serializers.Serializer):
    empties_back = LpgEmptyBackSerializer(many=True, required=False, default=list)
    take_deposits = serializers.BooleanField(required=False, default=True)


class CylinderReturnSerializer(serializers.ModelSerializer):
    cylinders: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    ledger_entry: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        source="entry", read_only=True
    )

    class Meta:
        model = CylinderReturn
        fields = ["id", "customer", "cylinders", "deposits_refunded", "amount", "ledger_entry", "at"]
        read_only_fields = fields


class CylinderReturnCreateSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    # many=True makes a ListSerializer, which takes min_length and max_length (the stubs miss them).
    cylinders = LpgEmptyBackSerializer(many=True, min_length=1, max_length=50)  # type: ignore[call-arg]
