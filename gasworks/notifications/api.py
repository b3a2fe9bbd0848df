"""API: a customer's messages and notification preferences (api.md "Notifications")."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gasworks.accounts.access import is_customer
from gasworks.api import idempotency
from gasworks.api.idempotency import idempotent_response
from gasworks.api.lookups import get_object_or_404
from gasworks.api.permissions import ActionPerms
from gasworks.customers.models import Customer
from gasworks.lib.dates import PlausibleDate
from gasworks.notifications import interruptions, preferences, texts
from gasworks.notifications.models import Message, SupplyInterruption
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
    # Refuse before looking up: a caller who may not see messages learns nothing of which
    # customers exist (403 either way, as the matching page answers).
    user = request.user
    if is_customer(user):
        if user.customer_id != pk:
            raise PermissionDenied()
    elif not user.has_perm(perm):
        raise PermissionDenied()
    return get_object_or_404(Customer, pk=pk)


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
        # Whoever may read a customer's messages may read how they are reached.
        return Response(self._answer(_customer_for(request, pk, "notifications.view_message")))

    def patch(self, request, pk: int):
        customer = _customer_for(request, pk, "notifications.change_preference")
        serializer = PreferenceSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        preferences.save(customer, **serializer.validated_data)
        return Response(self._answer(customer))


class InterruptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupplyInterruption
        fields = [
            "id",
            "district",
            "streets",
            "starts_at",
            "ends_at",
            "reason",
            "status",
            "customers_told",
            "created_at",
        ]
        read_only_fields = ["id", "status", "customers_told", "created_at"]


class InterruptionCreateSerializer(serializers.Serializer):
    district = serializers.CharField(max_length=64)
    streets = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=50)
    starts_at = serializers.DateTimeField(validators=[PlausibleDate()])
    ends_at = serializers.DateTimeField(validators=[PlausibleDate()])
    reason = serializers.CharField(max_length=200)


class InterruptionViewSet(viewsets.GenericViewSet):
    """Planned supply interruptions: dispatchers, managers and admins announce and cancel."""

    permission_classes = [ActionPerms]
    action_perms = {
        "list": ["notifications.view_supplyinterruption"],
        "create": ["notifications.announce_supplyinterruption"],
        "cancel": ["notifications.announce_supplyinterruption"],
    }
    queryset = SupplyInterruption.objects.all()
    serializer_class = InterruptionSerializer
    api_errors = (400, 403, 404, 409)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(InterruptionSerializer(page, many=True).data)

    @extend_schema(
        request=InterruptionCreateSerializer,
        responses={201: InterruptionSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="A retry with the same key and body gets the first answer and tells nobody twice.",
            )
        ],
    )
    def create(self, request):
        key = request.headers.get(idempotency.HEADER)

        def announce_it():
            data = InterruptionCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            item = interruptions.announce(
                data.validated_data["district"],
                data.validated_data["starts_at"],
                data.validated_data["ends_at"],
                data.validated_data["reason"],
                by=request.user,
                streets=data.validated_data.get("streets", []),
            )
            body = dict(InterruptionSerializer(item).data)
            body["customers"] = item.customers_told
            return body, 201

        body, code, replayed = idempotency.run_once(
            "supply-interruptions", request.user, key, request.data, announce_it
        )
        return idempotent_response(body, code, replayed)

    @extend_schema(request=None, responses={200: InterruptionSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        item = interruptions.cancel(get_object_or_404(SupplyInterruption, pk=pk), by=request.user)
        return Response(InterruptionSerializer(item).data)
