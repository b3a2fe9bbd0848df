from rest_framework.permissions import BasePermission

from gasworks.accounts.access import is_customer


class ActionPerms(BasePermission):
    """Deny by default: a view lists, per action (or HTTP method), the Django permissions a staff
    user needs; `customer_actions` names the actions a customer login may take on its own data."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        action = getattr(view, "action", None) or request.method.lower()
        if is_customer(user):
            return action in getattr(view, "customer_actions", ())
        perms_map = getattr(view, "action_perms", {})
        if action not in perms_map:
            return user.is_superuser
        return user.has_perms(perms_map[action])
