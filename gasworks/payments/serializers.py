from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gasworks.customers.models import Customer
from gasworks.payments.gateways import available_gateways
from gasworks.payments.models import Method, Payment, Refund


class PaymentCreateSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    method = serializers.ChoiceField(choices=Method.choices)
    # The gateways offered here (available_gateways); omitted: the first of them. None offered:
    # an online order is refused with 409 online_payment_unavailable.
    gateway = serializers.ChoiceField(choices=[], required=False)
    tendered = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        gateway = self.fields["gateway"]
        gateway.choices = [g.code for g in available_gateways()]
        if not gateway.choices:
            # No gateway offered: the schema would name an empty enum, which OpenAPI forbids; a
            # plain string says the same (any code is refused, and an online order is a 409).
            extend_schema_field(OpenApiTypes.STR)(gateway)


class PaymentCreatedSerializer(serializers.Serializer):
    """The answer to POST /payments/: a counter payment (cash, card, bank) succeeded at once with
    its receipt number (and the change given when cash was tendered); an online one is a pending
    order with the page to pay it on."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    receipt_no = serializers.CharField(required=False)
    change = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    order_no = serializers.CharField(required=False)
    pay_url = serializers.URLField(required=False)


class RefundSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    reason = serializers.CharField(max_length=255)


class RefundOutSerializer(serializers.ModelSerializer):
    """A refund as the API shows it. `status`: awaiting (approval), processing (sent to the gateway,
    not yet confirmed), done, failed (the gateway refused: `gateway_error` has its words; nothing
    was refunded), rejected. `status_label` is the status in the caller's language."""

    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Refund
        fields = [
            "id",
            "payment",
            "amount",
            "reason",
            "status",
            "status_label",
            "gateway_refund_id",
            "gateway_error",
            "created_at",
            "decided_at",
            "sent_at",
            "finished_at",
        ]
        read_only_fields = fields


class RefundAnswerSerializer(RefundOutSerializer):
    """The answer to a refund request: the refund, and the payment's status after it."""

    payment_status = serializers.CharField(source="payment.status", read_only=True)

    class Meta(RefundOutSerializer.Meta):
        fields = [*RefundOutSerializer.Meta.fields, "payment_status"]
        read_only_fields = fields


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
