"""API v1 for the foundation: token auth, users, customers. Thin: parse, call a service, answer."""

from django.contrib.auth import authenticate, get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from gasworks.accounts import services as account_services
from gasworks.accounts.access import scope_to_customer
from gasworks.accounts.lockout import lockout_response
from gasworks.api.errors import error_body
from gasworks.api.permissions import ActionPerms
from gasworks.api.serializers import CustomerSerializer, TokenRequestSerializer, UserSerializer
from gasworks.customers import services as customer_services
from gasworks.customers.models import Customer


class TokenView(APIView):
    """Exchange a username and password for an API token. Throttled, and locked out after
    repeated failures exactly like the login page (django-axes)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"
    api_errors = {"post": (400, 401)}  # 401: a wrong username or password (429 when locked out)

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
    )
    def post(self, request):
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        django_request = request._request
        user = authenticate(request=django_request, **form.validated_data)
        if getattr(django_request, "axes_locked_out", False):
            return lockout_response(django_request)
        if user is None or not user.is_active:
            return Response(
                error_body("invalid_credentials", _("The username or password is wrong.")),
                status=status.HTTP_401_UNAUTHORIZED,
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class UserViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = UserSerializer
    permission_classes = [ActionPerms]
    action_perms = {
        "list": ["accounts.view_user"],
        "retrieve": ["accounts.view_user"],
        "create": ["accounts.add_user"],
    }

    def get_queryset(self):
        return get_user_model().objects.order_by("pk")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = account_services.create_user(
            username=data["username"],
            password=data["password"],
            role=data["role"],
            customer=data.get("customer"),
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            email=data.get("email", ""),
        )


class CustomerViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = CustomerSerializer
    permission_classes = [ActionPerms]
    http_method_names = ["get", "post", "patch", "head", "options"]
    customer_actions = ("list", "retrieve", "ledger")
    action_perms = {
        "list": ["customers.view_customer"],
        "retrieve": ["customers.view_customer"],
        # The entries, not just the balance: the ledger page's permission (billing:ledger).
        "ledger": ["customers.view_customer", "billing.view_ledgerentry"],
        "create": ["customers.add_customer"],
        "partial_update": ["customers.change_customer"],
    }

    def get_queryset(self):
        queryset = Customer.objects.select_related("premises").order_by("pk")
        queryset = scope_to_customer(self.request.user, queryset, "pk", "customers.view_customer")
        params = self.request.query_params
        if params.get("category"):
            queryset = queryset.filter(category=params["category"])
        if params.get("status"):
            queryset = queryset.filter(status=params["status"])
        return customer_services.search(queryset, params.get("search", ""))

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = customer_services.open_account(
            customer_services.CustomerData(
                name=data["name"],
                category=data["category"],
                phone=data["phone"],
                address=data["address"],
                household_size=data.get("household_size", 1),
                gas_use=data.get("gas_use", "cooking"),
                district=data.get("district", ""),
                id_number=data.get("id_number", ""),
            ),
            by=self.request.user,
        )

    def perform_update(self, serializer):
        with transaction.atomic():
            serializer.instance = customer_services.update_account(
                serializer.instance, by=self.request.user, **serializer.validated_data
            )

    @extend_schema(
        responses={
            200: inline_serializer(
                "Ledger",
                {
                    "balance": serializers.DecimalField(max_digits=14, decimal_places=2),
                    "entries": serializers.ListField(child=serializers.DictField()),
                },
            )
        }
    )
    @action(detail=True, methods=["get"])
    def ledger(self, request, pk=None):
        from gasworks.customers.balance import balance_of, ledger_entries_of

        customer = self.get_object()
        return Response({"balance": f"{balance_of(customer):.2f}", "entries": ledger_entries_of(customer)})
