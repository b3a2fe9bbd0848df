from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from gasworks.accounts.roles import Role


class GasworksUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # `manage.py createsuperuser` makes a system administrator (it acts as the admin role).
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A staff member or a customer's portal login. The role decides the group (and so the
    permissions); a customer login is bound to exactly one customer account."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CUSTOMER)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="logins",
    )

    objects: ClassVar[GasworksUserManager] = GasworksUserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="customer_login_has_customer",
                condition=(models.Q(role="customer", customer__isnull=False) | ~models.Q(role="customer"))
                & (models.Q(role="customer") | models.Q(customer__isnull=True)),
            )
        ]

    @property
    def effective_role(self) -> str:
        return Role.ADMIN if self.is_superuser else self.role

    @property
    def is_customer(self) -> bool:
        return self.effective_role == Role.CUSTOMER

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # The role's group carries the permissions; keep exactly that one group.
        from django.contrib.auth.models import Group

        group, _created = Group.objects.get_or_create(name=self.role)
        if list(self.groups.values_list("pk", flat=True)) != [group.pk]:
            self.groups.set([group])
