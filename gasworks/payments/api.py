"""API v1 of payments: counter and online payments (idempotent by Idempotency-Key), gateway
callbacks, refunds, receipts. Thin: parse, call one service, answer."""

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from gasworks.accounts.access import is_customer, scope_to_customer
from gasworks.api import idempotency
from gasworks.api.idempotency import idempotent_response
from gasworks.api.lookups import get_object_or_404
from gasworks.api.permissions import ActionPerms
from gasworks.errors import DomainError
from gasworks.payments import receipts, services
from gasworks.payments.models import Method, Payment, PaymentStatus, Refund
from gasworks.payments.serializers import (
    PaymentCreatedSerializer,
    PaymentCreateSerializer,
    PaymentSerializer,
    RefundAnswerSerializer,
    RefundOutSerializer,
    RefundSerializer,
)


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PaymentSerializer
    permission_classes = [ActionPerms]
    action_perms = {
        "list": ["payments.view_payment"],
        "retrieve": ["payments.view_payment"],
        "create": ["payments.add_payment"],
        "refund": ["payments.refund_payment"],
        "refunds": ["payments.view_payment"],
        "receipt": ["payments.view_payment"],
    }
    customer_actions = ("list", "retrieve", "create", "receipt", "refunds")
    # A customer paying into another's account gets 404; an unpaid order has no receipt (409).
    api_errors = {"create": (400, 401, 403, 404, 409), "receipt": (401, 403, 404, 409)}

    def get_queryset(self):
        queryset = Payment.objects.select_related("customer").order_by("-pk")
        return scope_to_customer(self.request.user, queryset, "customer", "payments.view_payment")

    @extend_schema(
        request=PaymentCreateSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True)],
        responses={201: PaymentCreatedSerializer},
    )
    def create(self, request):
        form = PaymentCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        user = request.user
        customer = data["customer"]
        if is_customer(user) and customer.pk != user.customer_id:
            raise Http404
        services.check_payer(user, data["method"])

        def act():
            if data["method"] == Method.ONLINE:
                payment = services.create_online_order(customer, data["amount"], user, data.get("gateway"))
                url = services.pay_url(payment, request.build_absolute_uri)
                return {
                    "id": payment.pk,
                    "status": payment.status,
                    "order_no": payment.order_no,
                    "pay_url": url,
                }, 201
            payment = services.take_counter_payment(
                customer, data["amount"], data["method"], user, data.get("tendered")
            )
            body = {"id": payment.pk, "status": payment.status, "receipt_no": payment.receipt_no}
            if payment.change_given is not None:
                body["change"] = f"{payment.change_given:.2f}"
            return body, 201

        body, code, replayed = idempotency.run_once(
            "payments", user, request.headers.get(idempotency.HEADER), request.data, act
        )
        return idempotent_response(body, code, replayed)

    @extend_schema(request=RefundSerializer, responses={201: RefundAnswerSerializer})
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """201 with the refund as it stands: done, awaiting approval, processing at the gateway
        (settled later by reconciliation: poll GET .../refunds/) or failed (the gateway refused;
        nothing was refunded)."""
        payment = self.get_object()
        form = RefundSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        refund = services.request_refund(
            payment, form.validated_data["amount"], form.validated_data["reason"], request.user
        )
        refund = Refund.objects.select_related("payment").get(pk=refund.pk)
        return Response(RefundAnswerSerializer(refund).data, status=201)

    @extend_schema(responses={200: RefundOutSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def refunds(self, request, pk=None):
        """The payment's refunds, newest first."""
        payment = self.get_object()
        return Response(RefundOutSerializer(payment.refunds.order_by("-created_at", "-pk"), many=True).data)

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def receipt(self, request, pk=None):
        payment = get_object_or_404(
            self.get_queryset().select_related("customer__premises", "created_by"), pk=pk
        )
        if payment.status not in (
            PaymentStatus.SUCCEEDED,
            PaymentStatus.PARTLY_REFUNDED,
            PaymentStatus.REFUNDED,
        ):
            raise DomainError("not_paid", _("There is no receipt for an unpaid order."))
        response = HttpResponse(receipts.render(payment), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{payment.receipt_no}.pdf"'
        return response


class CallbackView(APIView):
    """Gateway notifications. No login: the signature is the authentication, checked before
    anything is written. Not throttled (a gateway retries in bursts)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []
    api_errors = {"post": (400, 409)}  # a forged or malformed one, an unknown gateway: 400

    @extend_schema(request=None, responses={200: None})
    def post(self, request, gateway):
        body = request._request.body  # the exact bytes that were signed
        _outcome, ack = services.handle_callback(gateway, body, request.headers)
        return HttpResponse(ack.body, content_type=ack.content_type)
