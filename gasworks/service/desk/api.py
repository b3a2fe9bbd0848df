"""API v1 of the service desk: /api/v1/service-requests/. Thin: parse, call a service."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gasworks.accounts.access import is_customer
from gasworks.api import idempotency
from gasworks.api.lookups import id_param
from gasworks.api.permissions import ActionPerms
from gasworks.customers.models import Customer
from gasworks.errors import InvalidInput
from gasworks.service.desk import completion, services
from gasworks.service.desk import serializers as s
from gasworks.service.desk.models import RequestKind, RequestSource, RequestStatus

_WORK = ["service.work_servicerequest"]


class ServiceRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.RequestSerializer
    permission_classes = [ActionPerms]
    http_method_names = ["get", "post", "head", "options"]
    customer_actions = ("list", "retrieve", "create")
    action_perms = {
        "list": ["service.view_servicerequest"],
        "retrieve": ["service.view_servicerequest"],
        "create": ["service.add_servicerequest"],
        "assign": _WORK,
        "start": _WORK,
        "complete": _WORK,
        "cancel": _WORK,
    }

    def get_queryset(self):
        queryset = services.visible_to(self.request.user).select_related("work_order__crew")
        params = self.request.query_params
        if params.get("kind") in RequestKind.values:
            queryset = queryset.filter(kind=params["kind"])
        if params.get("status") in RequestStatus.values:
            queryset = queryset.filter(status=params["status"])
        customer = id_param(self.request, "customer")
        if customer is not None:
            queryset = queryset.filter(customer_id=customer)
        if params.get("overdue") in {"1", "true"}:
            queryset = services.overdue(queryset)
        return queryset.order_by("due_by", "pk")

    def _input(self, serializer_class):
        form = serializer_class(data=self.request.data)
        form.is_valid(raise_exception=True)
        return form.validated_data

    def _answer(self, req, code=status.HTTP_200_OK):
        return Response(self.get_serializer(req).data, status=code)

    @extend_schema(
        request=s.RequestCreateSerializer,
        parameters=[idempotency.OPTIONAL_KEY],
        responses={201: s.RequestSerializer},
    )
    def create(self, request):
        return idempotency.run_maybe_once("service-requests", request, lambda: self._open(request))

    def _open(self, request):
        data = self._input(s.RequestCreateSerializer)
        wanted = data.get("customer")
        if is_customer(request.user):
            if wanted is not None and wanted != request.user.customer_id:
                message = _("You can open requests only for your own account.")
                raise InvalidInput("not_your_account", message, {"customer": [message]})
            wanted = request.user.customer_id
        elif wanted is None:
            raise InvalidInput("customer_required", _("Say which customer."), {"customer": [_("Required.")]})
        customer = Customer.objects.select_related("premises").filter(pk=wanted).first()
        if customer is None:
            raise InvalidInput(
                "unknown_customer", _("No such customer."), {"customer": [_("No such customer.")]}
            )
        req = services.open_request(
            customer,
            data["kind"],
            data["description"],
            source=data.get("source", RequestSource.PHONE),
            by=request.user,
        )
        return self.get_serializer(req).data, status.HTTP_201_CREATED

    @extend_schema(request=s.RequestAssignSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        data = self._input(s.RequestAssignSerializer)
        req = services.assign(
            self.get_object(),
            data["user"],
            by=request.user,
            crew=data.get("crew"),
            scheduled_at=data.get("scheduled_at"),
        )
        return self._answer(req)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._answer(services.start(self.get_object(), by=request.user))

    @extend_schema(request=s.RequestCompleteSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        data = self._input(s.RequestCompleteSerializer)
        work = completion.Work(
            old_meter=data["old_meter"],
            old_reading=data.get("old_reading"),
            new_serial_no=data["new_serial_no"],
            new_reading=data.get("new_reading"),
            new_kind=data["new_kind"],
        )
        return self._answer(services.complete(self.get_object(), data["note"], by=request.user, work=work))

    @extend_schema(request=s.RequestCancelSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = self._input(s.RequestCancelSerializer)
        req = services.cancel(self.get_object(), data["reason"], by=request.user, refused=data["refused"])
        return self._answer(req)
