"""Who may see what. Staff see through their role's permissions; a customer login sees only its
own customer and what hangs off it. Pages and the API both ask here."""

from django.db.models import QuerySet

from gasworks.accounts.roles import Role


def is_customer(user) -> bool:
    return bool(user.is_authenticated and not user.is_superuser and user.role == Role.CUSTOMER)


def scope_to_customer(
    user, queryset: QuerySet, customer_field: str = "customer", view_perm: str = ""
) -> QuerySet:
    """Rows of queryset the user may see: all with view_perm, a customer's own, else none.
    customer_field is the lookup from the row to its customer ("pk" for Customer itself)."""
    if not user.is_authenticated:
        return queryset.none()
    if is_customer(user):
        return queryset.filter(**{customer_field: user.customer_id})
    if not view_perm or user.has_perm(view_perm):
        return queryset
    return queryset.none()


def role_of(user) -> str:
    return user.effective_role if user.is_authenticated else ""
