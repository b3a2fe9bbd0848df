"""API: a customer's messages and notification preferences (api.md "Notifications")."""

from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gasworks.accounts.access import is_customer
from gasworks.api.lookups import get_object_or_404
from gasworks.customers.models import Customer
from gasworks.notifications import preferences, texts
from gasworks.notifications.models import Message
from gasworks.notifications.preferences import CHOOSABLE


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "event", "channel", "status", "text", "created_at", "sent_at"]


class PreferenceSerializer(serializers.Serializer):
    sms = serializers.BooleanField(required=False)
    wechat = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)
    opt_out = serializers.ListField(
        child=serializers.ChoiceField(choices=list(texts.KINDS)), required=False, max_length=len(texts.KINDS)
    )

    def validate_opt_out(self, value):
        safety = sorted(set(value) - set(CHOOSABLE))
        if safety:
            raise serializers.ValidationError(f"Safety messages cannot be opted out of: {', '.join(safety)}.")
        return value


def _customer_for(request, pk: int, perm: str) -> Customer:
    customer = get_object_or_404(Customer, pk=pk)
    user = request.user
    if is_customer(user):
        if user.customer_id != customer.pk:
            raise PermissionDenied()
    elif not user.has_perm(perm):
        raise PermissionDenied()
    return customer


class CustomerMessages(ListAPIView):
    serializer_class = MessageSerializer
    permission_classes = [IsAuthenticated]
    api_errors = (403, 404)

    def get_queryset(self):
        customer = _customer_for(self.request, self.kwargs["pk"], "notifications.view_message")
        return Message.objects.filter(customer=customer).order_by("-created_at", "-pk")


class CustomerPreferences(APIView):
    permission_classes = [IsAuthenticated]
    serializer_class = PreferenceSerializer
    api_errors = (400, 403, 404)

    def _answer(self, customer):
        current = preferences.of(customer)
        return {
            "sms": current.sms,
            "wechat": current.wechat,
            "email": current.email,
            "opt_out": current.opt_out,
        }

    def get(self, request, pk: int):
        return Response(self._answer(_customer_for(request, pk, "notifications.view_preference")))

    def patch(self, request, pk: int):
        customer = _customer_for(request, pk, "notifications.change_preference")
        serializer = PreferenceSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        preferences.save(customer, **serializer.validated_data)
        return Response(self._answer(customer))
