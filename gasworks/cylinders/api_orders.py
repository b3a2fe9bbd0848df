"""API v1 for LPG orders and delivery, and for cylinders returned for good (deposit refunds).
Thin: validate the body with a serializer, call one service of orders.py / deposits.py, answer
with the order (or return). A customer login sees and orders only for itself; anything else is
404 to it."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gasworks.accounts.access import is_customer, scope_to_customer
from gasworks.api.lookups import id_param
from gasworks.api.permissions import ActionPerms
from gasworks.cylinders import deposits, orders
from gasworks.cylinders import serializers as s
from gasworks.cylinders.models import Channel, CylinderReturn, LpgOrder, OrderStatus

_DISPATCH = ["cylinders.dispatch_lpgorder"]


class _Base(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ActionPerms]
    http_method_names = ["get", "post", "head", "options"]

    def _input(self, serializer_class, **kwargs):
        form = serializer_class(data=self.request.data, **kwargs)
        form.is_valid(raise_exception=True)
        return form.validated_data

    def _customer_filter(self, queryset):
        customer = id_param(self.request, "customer")
        return queryset if customer is None else queryset.filter(customer_id=customer)


class LpgOrderViewSet(_Base):
    """`GET|POST /api/v1/lpg-orders/`, `GET /api/v1/lpg-orders/{id}/` and the dispatcher's steps:
    assign → load (full cylinders out) → deliver (empties back, charge) or cancel."""

    serializer_class = s.LpgOrderSerializer
    customer_actions = ("list", "retrieve", "create")
    action_perms = {
        "list": ["cylinders.view_lpgorder"],
        "retrieve": ["cylinders.view_lpgorder"],
        "create": ["cylinders.add_lpgorder"],
        "assign": _DISPATCH,
        "load": _DISPATCH,
        "deliver": _DISPATCH,
        "cancel": _DISPATCH,
    }

    def get_queryset(self):
        queryset = LpgOrder.objects.select_related("worker").prefetch_related("lines__cylinder")
        queryset = scope_to_customer(self.request.user, queryset, "customer", "cylinders.view_lpgorder")
        queryset = self._customer_filter(queryset)
        if self.request.query_params.get("status") in OrderStatus.values:
            queryset = queryset.filter(status=self.request.query_params["status"])
        return queryset.order_by("-created_at", "-pk")

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=OrderStatus.values),
            OpenApiParameter("customer", int),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _answer(self, order, code=status.HTTP_200_OK):
        order = self.get_queryset().get(pk=order.pk)  # fresh, with its lines
        return Response(self.get_serializer(order).data, status=code)

    @extend_schema(request=s.LpgOrderCreateSerializer, responses={201: s.LpgOrderSerializer})
    def create(self, request):
        """Order cylinders: a customer login for itself (channel portal), staff for any
        customer (channel phone)."""
        data = self._input(s.LpgOrderCreateSerializer, user=request.user)
        own = is_customer(request.user)
        order = orders.place_order(
            data.get("customer") or request.user.customer,
            data["model"],
            data["quantity"],
            Channel.PORTAL if own else Channel.PHONE,
            by=request.user,
            note=data["note"],
        )
        return self._answer(order, status.HTTP_201_CREATED)

    @extend_schema(request=s.LpgAssignSerializer, responses=s.LpgOrderSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Assign (or reassign) the delivery worker and vehicle."""
        order = self.get_object()
        data = self._input(s.LpgAssignSerializer)
        return self._answer(orders.assign(order, data["worker"], data["vehicle"], by=request.user))

    @extend_schema(request=s.LpgLoadSerializer, responses=s.LpgOrderSerializer)
    @action(detail=True, methods=["post"])
    def load(self, request, pk=None):
        """Scan exactly `quantity` full cylinders of the ordered model onto the vehicle."""
        order = self.get_object()
        data = self._input(s.LpgLoadSerializer)
        return self._answer(orders.load(order, data["out_codes"], by=request.user))

    @extend_schema(request=s.LpgDeliverSerializer, responses=s.LpgOrderSerializer)
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        """Hand the loaded cylinders over, take empties back (each optionally weighed: gross_kg
        gives the residual gas), charge the fills and deposits to the ledger. Refused with 409
        `supply_blocked` while the customer has an open major hazard; a second deliver of the
        same order is 409 `already_delivered` and charges nothing."""
        order = self.get_object()
        data = self._input(s.LpgDeliverSerializer)
        done = orders.deliver(order, data["empties_back"], data["take_deposits"], by=request.user)
        return self._answer(done)

    @extend_schema(request=None, responses=s.LpgOrderSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel an order not yet loaded."""
        return self._answer(orders.cancel(self.get_object(), by=request.user))


class CylinderReturnViewSet(_Base):
    """`POST /api/v1/lpg-returns/` (header Idempotency-Key): cylinders back for good, deposits
    refunded to the ledger. The same key and body answer the first return again and write
    nothing; the same key with another body is a 409."""

    serializer_class = s.CylinderReturnSerializer
    customer_actions = ("list", "retrieve")
    action_perms = {
        "list": ["cylinders.view_cylinderreturn"],
        "retrieve": ["cylinders.view_cylinderreturn"],
        "create": ["cylinders.add_cylinderreturn"],
    }

    @extend_schema(parameters=[OpenApiParameter("customer", int)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        queryset = CylinderReturn.objects.select_related("entry").prefetch_related("cylinders")
        queryset = scope_to_customer(self.request.user, queryset, "customer", "cylinders.view_cylinderreturn")
        return self._customer_filter(queryset).order_by("-at", "-pk")

    @extend_schema(
        request=s.CylinderReturnCreateSerializer,
        responses={201: s.CylinderReturnSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True)],
    )
    def create(self, request):
        """Take cylinders held by the customer back for good; each brings a deposit back once
        it no longer settles an empty owed (a ledger entry of kind deposit, positive)."""
        data = self._input(s.CylinderReturnCreateSerializer)
        header = request.headers.get("Idempotency-Key", "").strip()
        # Keys are the caller's own: two integrators may both send "1" without meeting.
        key = f"api:{request.user.pk}:{header}" if header and len(header) <= 128 else ""
        made, _created = deposits.return_for_good(data["customer"], data["cylinders"], key, by=request.user)
        made = self.get_queryset().get(pk=made.pk)
        return Response(self.get_serializer(made).data, status=status.HTTP_201_CREATED)
