"""Users: creation by admins, self-registration of customers, role changes. No HTTP here."""

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gasworks.accounts.roles import Role
from gasworks.customers.models import Customer, Status
from gasworks.customers.services import check_account_no
from gasworks.errors import DomainError, InvalidInput


def _check_password(password: str, user) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput("weak_password", " ".join(exc.messages), {"password": list(exc.messages)}) from exc


@transaction.atomic
def create_user(username: str, password: str, role: str, customer: Customer | None = None, **extra):
    User = get_user_model()
    if role not in Role.values:
        raise InvalidInput("invalid_role", _("Unknown role."), {"role": [_("Unknown role.")]})
    if (role == Role.CUSTOMER) != (customer is not None):
        raise InvalidInput(
            "customer_mismatch",
            _("A customer login needs a customer account; staff logins have none."),
            {"customer": [_("A customer login needs the customer id.")]},
        )
    user = User(username=username.strip(), role=role, customer=customer, **extra)
    _check_password(password, user)
    user.set_password(password)
    user.is_staff = role == Role.ADMIN  # the Django admin site is for system admins only
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise DomainError(
            "username_taken", _("That username is already taken."), {"username": [_("Taken.")]}
        ) from exc
    return user


def _same_phone(a: str, b: str) -> bool:
    digits = lambda s: "".join(ch for ch in s if ch.isdigit())  # noqa: E731
    return bool(digits(a)) and digits(a) == digits(b)


@transaction.atomic
def register_customer(account_no: str, phone: str, username: str, password: str, email: str = ""):
    """A customer proves an existing account (account number plus the phone on file) and gets a
    portal login bound to it. Nothing else can be linked, and one account has one login."""
    number = check_account_no(account_no)
    refusal = DomainError(
        "account_not_matched",
        _("No open account matches that account number and phone."),
        {"account_no": [_("Check the account number and the phone on file.")]},
        status=400,
    )
    customer = Customer.objects.select_for_update().filter(account_no=number).first()
    if customer is None or customer.status == Status.CLOSED or not _same_phone(phone, customer.phone):
        raise refusal
    if customer.logins.exists():
        raise DomainError("already_registered", _("This account already has a portal login."))
    return create_user(username, password, Role.CUSTOMER, customer, email=email)


@transaction.atomic
def update_user(user, role: str | None = None, is_active: bool | None = None, **fields):
    if role is not None and role != user.role:
        if role == Role.CUSTOMER or user.role == Role.CUSTOMER:
            raise InvalidInput("role_change_refused", _("Staff and customer logins cannot be converted."))
        user.role = role
        user.is_staff = role == Role.ADMIN
    if is_active is not None:
        user.is_active = is_active
    for name, value in fields.items():
        setattr(user, name, value)
    user.save()
    return user
