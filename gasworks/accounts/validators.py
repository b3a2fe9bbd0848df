from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from gasworks.accounts.roles import Role

STAFF_MIN_LENGTH = 12
CUSTOMER_MIN_LENGTH = 8


class RoleMinimumLengthValidator:
    """Staff passwords guard money and gas: at least 12 characters; customers at least 8."""

    def validate(self, password, user=None):
        minimum = self._minimum(user)
        if len(password) < minimum:
            raise ValidationError(
                _("This password is too short. It must contain at least %(min_length)d characters.")
                % {"min_length": minimum},
                code="password_too_short",
            )

    def _minimum(self, user) -> int:
        role = getattr(user, "role", None)
        if user is None or role is None:
            return STAFF_MIN_LENGTH
        if getattr(user, "is_superuser", False) or role != Role.CUSTOMER:
            return STAFF_MIN_LENGTH
        return CUSTOMER_MIN_LENGTH

    def get_help_text(self):
        return _("Staff passwords need at least 12 characters, customer passwords at least 8.")
