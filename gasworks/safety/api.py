"""API v1 of the safety app: inspections, hazards, emergencies. Thin: parse, call a service."""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gasworks.accounts.access import is_customer, scope_to_customer
from gasworks.api import idempotency
from gasworks.api.lookups import get_object_or_404, id_param
from gasworks.api.permissions import ActionPerms
from gasworks.customers.models import Customer
from gasworks.errors import InvalidInput
from gasworks.safety import interlock, pdf
from gasworks.safety import serializers as s
from gasworks.safety.models import Emergency, Hazard, InspectionTask, PhotoKind
from gasworks.safety.services import emergencies, hazards, inspections, photos

_TASK_CHANGE = ["safety.change_inspectiontask"]


class _Base(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ActionPerms]
    http_method_names = ["get", "post", "head", "options"]

    def _input(self, serializer_class):
        form = serializer_class(data=self.request.data)
        form.is_valid(raise_exception=True)
        return form.validated_data

    def _answer(self, instance, code=status.HTTP_200_OK):
        return Response(self.get_serializer(instance).data, status=code)


class InspectionViewSet(_Base):
    serializer_class = s.InspectionSerializer
    action_perms = {
        "list": ["safety.view_inspectiontask"],
        "retrieve": ["safety.view_inspectiontask"],
        "create": ["safety.add_inspectiontask"],
        "assign": _TASK_CHANGE,
        "appointment": _TASK_CHANGE,
        "start": _TASK_CHANGE,
        "complete": _TASK_CHANGE,
        "nobody_home": _TASK_CHANGE,
        "cancel": _TASK_CHANGE,
        "add_photo": _TASK_CHANGE,
    }

    def get_queryset(self):
        queryset = (
            InspectionTask.objects.select_related("customer", "premises", "template")
            .prefetch_related("results__item", "hazards", "photos")
            .order_by("due_on", "pk")
        )
        params = self.request.query_params
        if params.get("status"):
            queryset = queryset.filter(status=params["status"])
        if params.get("mine") in {"1", "true"}:
            queryset = queryset.filter(inspector=self.request.user)
        customer = id_param(self.request, "customer")
        if customer is not None:
            queryset = queryset.filter(customer_id=customer)
        return queryset

    @extend_schema(request=s.InspectionCreateSerializer, responses={201: s.InspectionSerializer})
    def create(self, request):
        data = self._input(s.InspectionCreateSerializer)
        task = inspections.create_task(
            data["customer"],
            data["due_on"],
            by=request.user,
            inspector=data.get("inspector"),
            appointment_at=data.get("appointment_at"),
        )
        return self._answer(task, status.HTTP_201_CREATED)

    @extend_schema(request=s.AssignSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        data = self._input(s.AssignSerializer)
        task = inspections.assign(
            self.get_object(), data["inspector"], appointment_at=data.get("appointment_at"), by=request.user
        )
        return self._answer(task)

    @extend_schema(request=s.AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def appointment(self, request, pk=None):
        data = self._input(s.AppointmentSerializer)
        task = inspections.book_appointment(
            self.get_object(), data["starts_at"], data["ends_at"], by=request.user
        )
        return self._answer(task)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._answer(inspections.start(self.get_object(), by=request.user))

    @extend_schema(request=s.CompleteSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = self.get_object()
        data = self._input(s.CompleteSerializer)
        results = [inspections.ResultInput(**row) for row in data["results"]]
        done = inspections.complete(
            task,
            results,
            by=request.user,
            confirmed_by_name=data["confirmed_by_name"],
            customer_confirmed=data["customer_confirmed"],
            signature=data["signature"],
            note=data["note"],
            uploads=request.FILES.getlist("photos"),
        )
        return self._answer(done)

    @extend_schema(request=s.NoteSerializer, responses={201: s.InspectionSerializer})
    @action(detail=True, methods=["post"], url_path="nobody-home")
    def nobody_home(self, request, pk=None):
        data = self._input(s.NoteSerializer)
        follow = inspections.nobody_home(self.get_object(), data["note"], by=request.user)
        return self._answer(follow, status.HTTP_201_CREATED)

    @extend_schema(request=s.ReasonSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = self._input(s.ReasonSerializer)
        return self._answer(inspections.cancel(self.get_object(), data["reason"], by=request.user))

    @extend_schema(
        request={"multipart/form-data": s.PhotoUploadSerializer}, responses={201: s.PhotoSerializer}
    )
    @action(detail=True, methods=["post"], url_path="photos")
    def add_photo(self, request, pk=None):
        task = self.get_object()
        upload = request.FILES.get("photo")
        if upload is None:
            raise InvalidInput("photo_required", _("Attach a photo."), {"photo": [_("Attach a photo.")]})
        photo = photos.attach(upload, kind=PhotoKind.INSPECTION, by=request.user, task=task)
        return Response(s.PhotoSerializer(photo).data, status=status.HTTP_201_CREATED)


class HazardViewSet(_Base):
    serializer_class = s.HazardSerializer
    customer_actions = ("list", "retrieve", "notice")
    action_perms = {
        "list": ["safety.view_hazard"],
        "retrieve": ["safety.view_hazard"],
        "notice": ["safety.view_hazard"],
        "create": ["safety.add_hazard"],
        "rectify": ["safety.rectify_hazard"],
        "close": ["safety.close_hazard"],
        "reopen": ["safety.close_hazard"],
        "override": ["safety.add_supplyoverride"],
    }

    def get_queryset(self):
        queryset = Hazard.objects.select_related("customer__premises").prefetch_related("photos")
        queryset = scope_to_customer(self.request.user, queryset, "customer", "safety.view_hazard")
        params = self.request.query_params
        if params.get("status"):
            queryset = queryset.filter(status=params["status"])
        if params.get("level"):
            queryset = queryset.filter(level=params["level"])
        customer = id_param(self.request, "customer")
        if customer is not None:
            queryset = queryset.filter(customer_id=customer)
        if params.get("overdue") in {"1", "true"}:
            queryset = hazards.overdue(queryset)
        return queryset.order_by("deadline", "pk")

    @extend_schema(request=s.HazardCreateSerializer, responses={201: s.HazardSerializer})
    def create(self, request):
        data = self._input(s.HazardCreateSerializer)
        hazard = hazards.raise_hazard(
            data["customer"],
            data["level"],
            data["description"],
            by=request.user,
            deadline=data.get("deadline"),
        )
        return self._answer(hazard, status.HTTP_201_CREATED)

    @extend_schema(request=s.NoteSerializer)
    @action(detail=True, methods=["post"])
    def rectify(self, request, pk=None):
        data = self._input(s.NoteSerializer)
        hazard = hazards.rectify(
            self.get_object(), data["note"], by=request.user, uploads=request.FILES.getlist("photos")
        )
        return self._answer(hazard)

    @extend_schema(request=s.NoteSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        data = self._input(s.NoteSerializer)
        return self._answer(hazards.close(self.get_object(), data["note"], by=request.user))

    @extend_schema(request=s.NoteSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        data = self._input(s.NoteSerializer)
        return self._answer(hazards.reopen(self.get_object(), data["note"], by=request.user))

    @extend_schema(request=s.ReasonSerializer, responses={201: s.HazardSerializer})
    @action(detail=True, methods=["post"])
    def override(self, request, pk=None):
        data = self._input(s.ReasonSerializer)
        hazard = self.get_object()
        interlock.grant_override(hazard, data["reason"], by=request.user)
        return self._answer(hazard, status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def notice(self, request, pk=None):
        hazard = self.get_object()
        response = HttpResponse(pdf.rectification_notice(hazard), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{hazard.notice_no}.pdf"'
        return response


class EmergencyViewSet(_Base):
    serializer_class = s.EmergencySerializer
    customer_actions = ("list", "retrieve", "create")
    _dispatch = ["safety.dispatch_emergency"]
    action_perms = {
        "list": ["safety.view_emergency"],
        "retrieve": ["safety.view_emergency"],
        "response_times": ["safety.view_emergency"],
        "create": ["safety.add_emergency"],
        "dispatch_crew": _dispatch,
        "arrive": _dispatch,
        "resolve": _dispatch,
        "cancel": _dispatch,
    }

    def get_queryset(self):
        queryset = Emergency.objects.select_related("crew")
        queryset = scope_to_customer(self.request.user, queryset, "customer", "safety.view_emergency")
        params = self.request.query_params
        if params.get("status"):
            queryset = queryset.filter(status=params["status"])
        if params.get("open") in {"1", "true"}:
            from gasworks.safety.models import OPEN_EMERGENCY_STATUSES

            queryset = queryset.filter(status__in=OPEN_EMERGENCY_STATUSES)
        return queryset.order_by("-reported_at", "-pk")

    @extend_schema(
        request=s.EmergencyCreateSerializer,
        parameters=[idempotency.OPTIONAL_KEY],
        responses={201: s.EmergencySerializer},
    )
    def create(self, request):
        # The key is optional here: a phone on a bad line sends one, a form need not.
        return idempotency.run_maybe_once("emergencies", request, lambda: self._report(request))

    def _report(self, request):
        data = self._input(s.EmergencyCreateSerializer)
        customer = data.get("customer")
        if is_customer(request.user):
            # A customer reports for its own account, whatever the body says.
            customer = get_object_or_404(
                Customer.objects.select_related("premises"), pk=request.user.customer_id
            )
        case = emergencies.report(
            address=data["address"],
            description=data["description"],
            priority=data["priority"],
            contact_phone=data["contact_phone"],
            customer=customer,
            by=request.user,
        )
        return self.get_serializer(case).data, status.HTTP_201_CREATED

    @extend_schema(request=s.DispatchSerializer)
    @action(detail=True, methods=["post"], url_path="dispatch")
    def dispatch_crew(self, request, pk=None):
        data = self._input(s.DispatchSerializer)
        return self._answer(emergencies.dispatch(self.get_object(), data["crew"], by=request.user))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def arrive(self, request, pk=None):
        return self._answer(emergencies.arrive(self.get_object(), by=request.user))

    @extend_schema(request=s.ResolveSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        data = self._input(s.ResolveSerializer)
        return self._answer(emergencies.resolve(self.get_object(), data["resolution"], by=request.user))

    @extend_schema(request=s.ReasonSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = self._input(s.ReasonSerializer)
        return self._answer(emergencies.cancel(self.get_object(), data["reason"], by=request.user))

    @extend_schema(responses=s.ResponseTimesSerializer)
    @action(detail=False, methods=["get"], url_path="response-times")
    def response_times(self, request):
        figures = emergencies.response_figures()
        return Response(s.ResponseTimesSerializer(figures).data)
