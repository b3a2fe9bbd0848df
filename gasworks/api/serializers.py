from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers

from gasworks.accounts.roles import Role
from gasworks.customers.models import Category, Customer, GasUse, Status
from gasworks.lib import decimals


def decimal_for(model, name: str, **kwargs) -> serializers.DecimalField:
    """A serializer field for ``model``'s DecimalField ``name``: digits and places from the column,
    so the API refuses (400) what the column cannot hold instead of failing at the write."""
    return serializers.DecimalField(**decimals.limits(model, name), **kwargs)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False)


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, trim_whitespace=False)
    role = serializers.ChoiceField(choices=Role.choices)
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = get_user_model()
        fields = [
            "id",
            "username",
            "password",
            "role",
            "customer",
            "first_name",
            "last_name",
            "email",
            "is_active",
        ]
        read_only_fields = ["id"]

    def validate(self, attrs):
        role, customer = attrs.get("role"), attrs.get("customer")
        if role == Role.CUSTOMER and customer is None:
            raise serializers.ValidationError({"customer": [_("A customer login needs the customer id.")]})
        if role != Role.CUSTOMER and customer is not None:
            raise serializers.ValidationError(
                {"customer": [_("Only a customer login is linked to a customer.")]}
            )
        probe = get_user_model()(username=attrs.get("username", ""), role=role)
        try:
            password_validation.validate_password(attrs["password"], probe)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class CustomerSerializer(serializers.ModelSerializer):
    address = serializers.CharField(max_length=255)
    district = serializers.CharField(max_length=64, required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Category.choices)
    gas_use = serializers.ChoiceField(choices=GasUse.choices, required=False)
    household_size = serializers.IntegerField(min_value=1, max_value=99, required=False, default=1)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    balance = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "id",
            "account_no",
            "name",
            "category",
            "gas_use",
            "phone",
            "address",
            "district",
            "household_size",
            "id_number",
            "status",
            "opened_on",
            "balance",
        ]
        read_only_fields = ["id", "account_no", "status", "opened_on", "balance"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["address"] = instance.premises.address
        data["district"] = instance.premises.district
        return data

    def get_balance(self, obj) -> str:
        from gasworks.customers.balance import balance_of

        return f"{balance_of(obj):.2f}"
