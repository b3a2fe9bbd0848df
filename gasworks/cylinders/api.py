"""API v1 for cylinders: register one, read it with its history, record a fill (refused with a 409
and a clear code for a scrapped cylinder, one past its inspection date or a fill above its rating)."""

from decimal import Decimal

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from gasworks.api.pagination import Pagination
from gasworks.api.permissions import ActionPerms
from gasworks.cylinders import rules, services
from gasworks.cylinders.models import Cylinder, CylinderModel, Standard
from gasworks.lib.dates import PlausibleDate
from gasworks.lib.money import DecimalSpec

KG: DecimalSpec = {"max_digits": 8, "decimal_places": 3}


class CylinderIn(serializers.Serializer):
    code = serializers.CharField(max_length=32)
    model = serializers.ChoiceField(choices=CylinderModel.choices)
    tare_kg = serializers.DecimalField(min_value=Decimal("0.001"), **KG)
    rated_fill_kg = serializers.DecimalField(min_value=Decimal("0.001"), required=False, **KG)
    manufactured_on = serializers.DateField(validators=[PlausibleDate()])
    next_inspection_on = serializers.DateField(validators=[rules.NEXT_INSPECTION], required=False)
    last_inspection_on = serializers.DateField(validators=[PlausibleDate()], required=False)
    maker = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    standard = serializers.ChoiceField(choices=Standard.choices, required=False, default=Standard.GB5842_2006)


class FillingIn(serializers.Serializer):
    gross_kg = serializers.DecimalField(min_value=Decimal("0.001"), **KG)
    scale_id = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


def _kg(value) -> str | None:
    return None if value is None else f"{value:.3f}"


def cylinder_body(cylinder: Cylinder, history: bool = False) -> dict:
    body: dict[str, object] = {
        "code": cylinder.code,
        "model": cylinder.model,
        "tare_kg": _kg(cylinder.tare_kg),
        "rated_fill_kg": _kg(cylinder.rated_fill_kg),
        "maker": cylinder.maker,
        "manufactured_on": cylinder.manufactured_on.isoformat(),
        "standard": cylinder.standard,
        "last_inspection_on": cylinder.last_inspection_on.isoformat()
        if cylinder.last_inspection_on
        else None,
        "next_inspection_on": cylinder.next_inspection_on.isoformat(),
        "scrap_on": cylinder.scrap_on.isoformat(),
        "owner_station": cylinder.owner.code,
        "status": cylinder.status,
    }
    if history:
        body["history"] = [
            {
                "kind": e.kind,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "customer": e.customer_id,
                "order": e.order_id,
                "mass_kg": _kg(e.mass_kg),
                "note": e.note,
                "at": e.at.isoformat(),
            }
            for e in cylinder.events.order_by("at", "pk")
        ]
    return body


class CylinderListView(APIView):
    permission_classes = [ActionPerms]
    action_perms = {"get": ["cylinders.view_cylinder"], "post": ["cylinders.add_cylinder"]}
    api_errors = {"get": (401, 403, 404)}  # 404: a page past the end (paginated by hand)

    @extend_schema(operation_id="cylinders_list", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        queryset = Cylinder.objects.select_related("owner").order_by("code")
        if request.query_params.get("status"):
            queryset = queryset.filter(status=request.query_params["status"])
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response([cylinder_body(c) for c in page])

    @extend_schema(request=CylinderIn, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        form = CylinderIn(data=request.data)
        form.is_valid(raise_exception=True)
        cylinder = services.register_cylinder(services.CylinderData(**form.validated_data), by=request.user)
        return Response(cylinder_body(cylinder, history=True), status=status.HTTP_201_CREATED)


class CylinderDetailView(APIView):
    permission_classes = [ActionPerms]
    action_perms = {"get": ["cylinders.view_cylinder"]}

    @extend_schema(operation_id="cylinders_retrieve", responses=OpenApiTypes.OBJECT)
    def get(self, request, code):
        cylinder = Cylinder.objects.select_related("owner").filter(code=services.normalize_code(code)).first()
        if cylinder is None:
            raise Http404
        return Response(cylinder_body(cylinder, history=True))


class FillingView(APIView):
    permission_classes = [ActionPerms]
    action_perms = {"post": ["cylinders.fill_cylinder"]}

    @extend_schema(request=FillingIn, responses={201: OpenApiTypes.OBJECT})
    def post(self, request, code):
        form = FillingIn(data=request.data)
        form.is_valid(raise_exception=True)
        filling = services.record_filling(
            code, form.validated_data["gross_kg"], by=request.user, scale_id=form.validated_data["scale_id"]
        )
        return Response(
            {
                "id": filling.pk,
                "code": filling.cylinder.code,
                "gross_kg": _kg(filling.gross_kg),
                "tare_kg": _kg(filling.tare_kg),
                "net_kg": _kg(filling.net_kg),
                "filled_at": filling.filled_at.isoformat(),
            },
            status=status.HTTP_201_CREATED,
        )
