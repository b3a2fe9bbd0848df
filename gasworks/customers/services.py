"""Customer accounts: opening, editing, status moves and name transfer. No HTTP here."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.customers.models import (
    TRANSITIONS,
    AccountNumberBlock,
    Customer,
    Premises,
    Status,
    StatusChange,
)
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib import checkdigit

ACCOUNT_BODY_DIGITS = 7


def reserve_account_numbers(count: int) -> list[str]:
    """Hand out `count` new account numbers: station code + sequence + Luhn check digit."""
    with transaction.atomic():
        block, _created = AccountNumberBlock.objects.select_for_update().get_or_create(pk=1)
        first = block.next_value
        block.next_value = first + count
        block.save(update_fields=["next_value"])
    station = settings.STATION_CODE
    return [
        checkdigit.with_check_digit(f"{station}{n:0{ACCOUNT_BODY_DIGITS}d}")
        for n in range(first, first + count)
    ]


def normalize_account_no(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isdigit())


def check_account_no(raw: str) -> str:
    """A typed account number, or a clear error when its check digit says it is mistyped."""
    number = normalize_account_no(raw)
    if not checkdigit.is_valid(number):
        raise InvalidInput(
            "invalid_account_no",
            _("Account number %(number)s is not valid: please check the digits.") % {"number": raw},
            fields={"account_no": [_("Check digit mismatch.")]},
        )
    return number


@dataclass(frozen=True)
class CustomerData:
    name: str
    category: str
    phone: str
    address: str
    household_size: int = 1
    gas_use: str = "cooking"
    district: str = ""
    id_number: str = ""


def _validate(data: CustomerData) -> None:
    fields: dict[str, list[str]] = {}
    if not data.name.strip():
        fields["name"] = [_("Enter the customer's name.")]
    if not data.phone.strip():
        fields["phone"] = [_("Enter a phone number.")]
    if not data.address.strip():
        fields["address"] = [_("Enter the address.")]
    if data.household_size < 1:
        fields["household_size"] = [_("Household size must be at least 1.")]
    if fields:
        raise InvalidInput("invalid_customer", _("Please correct the highlighted fields."), fields)


@transaction.atomic
def open_account(data: CustomerData, by=None, premises: Premises | None = None) -> Customer:
    _validate(data)
    if premises is None:
        premises = Premises.objects.create(address=data.address.strip(), district=data.district.strip())
    now = timezone.now()
    customer = Customer.objects.create(
        account_no=reserve_account_numbers(1)[0],
        name=data.name.strip(),
        category=data.category,
        gas_use=data.gas_use,
        phone=data.phone.strip(),
        premises=premises,
        household_size=data.household_size,
        id_number=data.id_number.strip(),
        opened_on=timezone.localdate(now),
    )
    StatusChange.objects.create(customer=customer, to_status=Status.ACTIVE, event="opened", by=by, at=now)
    return customer


def _lock(customer: Customer) -> Customer:
    return Customer.objects.select_for_update().select_related("premises").get(pk=customer.pk)


def _refuse_if_closed(customer: Customer) -> None:
    if customer.status == Status.CLOSED:
        raise DomainError(
            "account_closed",
            _("Account %(no)s is closed and accepts no change.") % {"no": customer.account_no},
        )


@transaction.atomic
def update_account(customer: Customer, by=None, **changes) -> Customer:
    customer = _lock(customer)
    _refuse_if_closed(customer)
    address = changes.pop("address", None)
    district = changes.pop("district", None)
    merged = CustomerData(
        name=changes.get("name", customer.name),
        category=changes.get("category", customer.category),
        phone=changes.get("phone", customer.phone),
        address=address if address is not None else customer.premises.address,
        household_size=changes.get("household_size", customer.household_size),
        gas_use=changes.get("gas_use", customer.gas_use),
        id_number=changes.get("id_number", customer.id_number),
    )
    _validate(merged)
    for field in ("name", "category", "phone", "household_size", "gas_use", "id_number"):
        setattr(customer, field, getattr(merged, field))
    customer.save()
    if address is not None or district is not None:
        premises = customer.premises
        premises.address = merged.address.strip()
        if district is not None:
            premises.district = district.strip()
        premises.save()
    return customer


@transaction.atomic
def change_status(customer: Customer, to_status: str, reason: str = "", by=None, event: str = "") -> Customer:
    customer = _lock(customer)
    TRANSITIONS.check(customer.status, to_status)
    if to_status in (Status.SUSPENDED, Status.CLOSED) and not reason.strip():
        raise InvalidInput(
            "reason_required", _("Give a reason."), fields={"reason": [_("This field is required.")]}
        )
    now = timezone.now()
    StatusChange.objects.create(
        customer=customer,
        from_status=customer.status,
        to_status=to_status,
        event=event or {"active": "reactivated", "suspended": "suspended", "closed": "closed"}[to_status],
        reason=reason.strip(),
        by=by,
        at=now,
    )
    customer.status = to_status
    if to_status == Status.CLOSED:
        customer.closed_on = timezone.localdate(now)
    customer.save(update_fields=["status", "closed_on", "updated_at"])
    return customer


def suspend(customer: Customer, reason: str, by=None) -> Customer:
    return change_status(customer, Status.SUSPENDED, reason, by)


def reactivate(customer: Customer, by=None, reason: str = "") -> Customer:
    return change_status(customer, Status.ACTIVE, reason, by)


def close(customer: Customer, reason: str, by=None) -> Customer:
    return change_status(customer, Status.CLOSED, reason, by)


@transaction.atomic
def transfer(customer: Customer, new_holder: CustomerData, reason: str = "", by=None) -> Customer:
    """Name transfer (过户): the old account closes, a new one opens on the same premises, so the
    premises and everything installed there carry over while money stays with the old holder."""
    old = _lock(customer)
    _refuse_if_closed(old)
    data = CustomerData(
        name=new_holder.name,
        category=new_holder.category or old.category,
        phone=new_holder.phone,
        address=old.premises.address,
        household_size=new_holder.household_size,
        gas_use=new_holder.gas_use or old.gas_use,
        id_number=new_holder.id_number,
    )
    new = open_account(data, by=by, premises=old.premises)
    change_status(
        old, Status.CLOSED, reason or _("Transferred to %(no)s") % {"no": new.account_no}, by, "transferred"
    )
    StatusChange.objects.filter(customer=new, event="opened").update(
        reason=_("Transferred from %(no)s") % {"no": old.account_no}
    )
    return new


# Address parts shorter than a trigram cannot use the trigram index; they search names only.
ADDRESS_MIN_CHARS = 3


def search(queryset: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    """Find by account number or phone (digits: indexed prefix matches on one table), else by
    name prefix or a part of the address. The two text branches are a UNION of ids, so each keeps
    its own index (a plain OR across the premises join would scan the whole table)."""
    text = text.strip()
    if not text:
        return queryset
    compact = text.replace(" ", "").replace("-", "")
    if compact.isdigit():
        return queryset.filter(Q(account_no__startswith=compact) | Q(phone__startswith=compact))
    by_name = Customer.objects.filter(name__startswith=text).order_by().values("pk")
    if len(text) < ADDRESS_MIN_CHARS:
        return queryset.filter(pk__in=by_name)
    by_address = (
        Customer.objects.filter(premises__in=Premises.objects.filter(address__contains=text).values("pk"))
        .order_by()
        .values("pk")
    )
    return queryset.filter(pk__in=by_name.union(by_address))
