"""API: the collections run and a customer's steps (api.md "Service desk and collections")."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gasworks.accounts.access import is_customer
from gasworks.api.lookups import get_object_or_404
from gasworks.api.permissions import ActionPerms
from gasworks.customers.models import Customer
from gasworks.lib.dates import PlausibleDate
from gasworks.service.collections import services
from gasworks.service.collections.models import CollectionStep


class CollectionRunSerializer(serializers.Serializer):
    as_of = serializers.DateField(validators=[PlausibleDate(past_years=5, future_years=1)])


RunAnswer = inline_serializer(
    "CollectionRunAnswer",
    {name: serializers.IntegerField() for name in services.COUNT_NAMES.values()},
)


class CollectionStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = CollectionStep
        fields = ["id", "step", "created_on", "status", "amount", "oldest_due"]


class CollectionRuns(APIView):
    """POST: take the ladder's steps of a day (manager, admin)."""

    permission_classes = [ActionPerms]
    action_perms = {"post": ["service.run_collections"]}
    api_errors = (400, 403, 409)

    @extend_schema(request=CollectionRunSerializer, responses={200: RunAnswer})
    def post(self, request):
        data = CollectionRunSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.run(data.validated_data["as_of"], by=request.user))


class CustomerSteps(APIView):
    """GET: a customer's steps, newest first (staff who see steps; a customer its own)."""

    permission_classes = [IsAuthenticated]
    api_errors = (403, 404)

    @extend_schema(responses={200: CollectionStepSerializer(many=True)})
    def get(self, request, pk: int):
        user = request.user
        if is_customer(user):
            if user.customer_id != pk:
                raise PermissionDenied()
        elif not user.has_perm("service.view_collectionstep"):
            raise PermissionDenied()
        customer = get_object_or_404(Customer, pk=pk)
        return Response(CollectionStepSerializer(services.steps_of(customer), many=True).data)
