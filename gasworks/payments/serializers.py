from decimal import Decimal

from rest_framework import serializers

from gasworks.customers.models import Customer
from gasworks.payments.gateways.base import gateway_codes
from gasworks.payments.models import Method, Payment


class PaymentCreateSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    method = serializers.ChoiceField(choices=Method.choices)
    gateway = serializers.ChoiceField(choices=[], required=False)
    tendered = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gateway"].choices = gateway_codes()


class RefundSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    reason = serializers.CharField(max_length=255)


class PaymentSerializer(serializers.ModelSerializer):
    customer_account_no = serializers.CharField(source="customer.account_no", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "order_no",
            "customer",
            "customer_account_no",
            "amount",
            "currency",
            "method",
            "status",
            "gateway",
            "gateway_txn_id",
            "receipt_no",
            "refunded_amount",
            "needs_review",
            "created_at",
            "paid_at",
        ]
        read_only_fields = fields
