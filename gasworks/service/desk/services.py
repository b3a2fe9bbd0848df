"""Service requests (工单): opened by a customer, staff or the system, assigned, started, completed
or cancelled through the status table (models.REQUEST_TRANSITIONS). Every change locks the
request row, writes a history line and commits with what it did; completion does the work of the
kind in the same transaction (completion.py)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.accounts.access import is_customer
from gasworks.accounts.roles import Role
from gasworks.customers.models import Status as CustomerStatus
from gasworks.errors import DomainError, InvalidInput, NotAllowed
from gasworks.lib.events import publish
from gasworks.service.desk import completion, kinds
from gasworks.service.desk.events import RequestCompleted, RequestOpened
from gasworks.service.desk.models import (
    OPEN_STATUSES,
    REQUEST_TRANSITIONS,
    RequestEvent,
    RequestKind,
    RequestPhoto,
    RequestSource,
    RequestStatus,
    ServiceRequest,
    WorkOrder,
)

WORK_PERM = "service.work_servicerequest"


def _required(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}_required", message, {field: [_("This field is required.")]})


def _history(req: ServiceRequest, action: str, by, at, note: str = "", before: str = "") -> None:
    RequestEvent.objects.create(
        request=req,
        at=at,
        by=by if getattr(by, "pk", None) else None,
        action=action,
        from_status=before,
        to_status=req.status if before else "",
        note=note,
    )


# ---------------------------------------------------------------- who may do what


def role_of(user) -> str:
    return user.effective_role if user and user.is_authenticated else ""


def may_work(user, req: ServiceRequest) -> bool:
    """Staff holding the work permission whose role owns the kind (or oversees all), or the
    person the request is assigned to."""
    if not user.is_authenticated or is_customer(user) or not user.has_perm(WORK_PERM):
        return False
    return req.kind in kinds.kinds_owned_by(role_of(user)) or req.assigned_to_id == user.pk


def may_be_assigned(user, kind: str) -> bool:
    return bool(user.is_active and not is_customer(user) and kind in kinds.kinds_owned_by(role_of(user)))


def assignable_users(kind: str) -> QuerySet:
    owner = kinds.rule(kind).owner
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(role__in=[owner, *kinds.OVERSEERS]) | Q(is_superuser=True))
        .order_by("username")
    )


def visible_to(user, queryset: QuerySet | None = None) -> QuerySet:
    """The requests a user sees: a customer its own; staff the kinds their role owns and those
    they opened or hold; overseers all."""
    queryset = ServiceRequest.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    if is_customer(user):
        return queryset.filter(customer_id=user.customer_id)
    if not user.has_perm("service.view_servicerequest"):
        return queryset.none()
    role = role_of(user)
    if role in kinds.OVERSEERS:
        return queryset
    return queryset.filter(Q(kind__in=kinds.kinds_owned_by(role)) | Q(opened_by=user) | Q(assigned_to=user))


def overdue(queryset: QuerySet | None = None, now: dt.datetime | None = None) -> QuerySet:
    queryset = ServiceRequest.objects.all() if queryset is None else queryset
    return queryset.filter(status__in=OPEN_STATUSES, due_by__lt=now or timezone.now())


# ---------------------------------------------------------------- opening


def _check_opening(customer, kind: str, description: str, source: str, by) -> None:
    if kind not in RequestKind.values:
        raise InvalidInput("invalid_kind", _("Unknown kind of request."), {"kind": [_("Unknown kind.")]})
    if source not in RequestSource.values:
        raise InvalidInput("invalid_source", _("Unknown source."), {"source": [_("Unknown source.")]})
    if not description:
        raise _required("description", _("Describe what the customer asks for."))
    if by is not None and is_customer(by):
        if customer.pk != by.customer_id:
            raise NotAllowed("not_your_account", _("You can open requests only for your own account."))
        if not kinds.rule(kind).portal:
            message = _("A %(kind)s cannot be opened from the portal: please call or visit the counter.") % {
                "kind": RequestKind(kind).label
            }
            raise InvalidInput("kind_not_allowed", message, {"kind": [message]})
    if customer.status == CustomerStatus.CLOSED:
        raise DomainError("account_closed", _("Account %(no)s is closed.") % {"no": customer.account_no})


def open_request(
    customer,
    kind: str,
    description: str,
    *,
    source: str,
    by=None,
    form_token=None,
    existing_ok: bool = False,
) -> ServiceRequest:
    """Open a request; its deadline is the kind's parameter in hours from now. A kind that must
    not run twice (a disconnection, a meter change...) is refused while one is live, or, with
    ``existing_ok`` (the system, say the collections ladder), the live one is returned. A page's
    form token sent twice returns the first request."""
    description = (description or "").strip()
    if by is not None and is_customer(by):
        source = RequestSource.PORTAL
    _check_opening(customer, kind, description, source, by)
    now = timezone.now()
    try:
        with transaction.atomic():
            req = ServiceRequest.objects.create(
                customer=customer,
                kind=kind,
                source=source,
                description=description,
                opened_at=now,
                opened_by=by,
                due_by=now + dt.timedelta(hours=kinds.deadline_hours(kind)),
                form_token=form_token,
            )
            if kinds.rule(kind).work_order:
                WorkOrder.objects.create(request=req)
            _history(req, "opened", by, now, note=str(RequestSource(source).label))
            publish(RequestOpened(req.pk, customer.pk, kind))
    except IntegrityError:
        if form_token is not None:
            same = ServiceRequest.objects.filter(form_token=form_token).first()
            if same is not None:
                return same
        live = ServiceRequest.objects.filter(customer=customer, kind=kind, status__in=OPEN_STATUSES).first()
        if live is None:
            raise DomainError("conflict", _("The request met another one; send it again.")) from None
        if existing_ok:
            return live
        raise DomainError(
            "already_open",
            _("Request %(no)s of this kind is still open for this customer.") % {"no": live.number},
        ) from None
    return req


# ---------------------------------------------------------------- moves


def _locked(req: ServiceRequest) -> ServiceRequest:
    return ServiceRequest.objects.select_for_update().select_related("customer").get(pk=req.pk)


def _check_worker(user, req: ServiceRequest) -> None:
    if user is not None and not may_work(user, req):
        raise NotAllowed("not_owner", _("Your role does not work requests of this kind."))


def _check_assignee(user, kind: str) -> None:
    if user is None or not may_be_assigned(user, kind):
        message = _("This person may not be given a %(kind)s.") % {"kind": RequestKind(kind).label}
        raise InvalidInput("invalid_assignee", message, {"user": [message]})


def assign(req: ServiceRequest, user, *, by, crew=None, scheduled_at=None) -> ServiceRequest:
    """Give an open request to a person of the owning role (a second assign is refused: 409)."""
    _check_worker(by, req)
    _check_assignee(user, req.kind)
    with transaction.atomic():
        locked = _locked(req)
        before = locked.status
        REQUEST_TRANSITIONS.move(locked, RequestStatus.ASSIGNED)
        locked.assigned_to = user
        locked.save(update_fields=["status", "assigned_to"])
        now = timezone.now()
        _history(locked, "assigned", by, now, note=user.get_username(), before=before)
        if crew is not None or scheduled_at is not None:
            _schedule(locked, crew, scheduled_at, by, now)
    return locked


def reassign(req: ServiceRequest, user, *, by) -> ServiceRequest:
    """Hand an assigned (not yet started) request to someone else."""
    _check_worker(by, req)
    _check_assignee(user, req.kind)
    with transaction.atomic():
        locked = _locked(req)
        if locked.status != RequestStatus.ASSIGNED:
            raise DomainError(
                "invalid_transition", _("Only an assigned request not yet started can be handed over.")
            )
        locked.assigned_to = user
        locked.save(update_fields=["assigned_to"])
        _history(locked, "reassigned", by, timezone.now(), note=user.get_username())
    return locked


def _schedule(req: ServiceRequest, crew, scheduled_at, by, now) -> WorkOrder:
    order = WorkOrder.objects.select_for_update().filter(request=req).first()
    if order is None:
        raise DomainError("no_work_order", _("This kind of request has no field work order."))
    if scheduled_at is not None and scheduled_at < now - dt.timedelta(hours=1):
        raise InvalidInput(
            "scheduled_in_past",
            _("The visit cannot be scheduled in the past."),
            {"scheduled_at": [_("Too early.")]},
        )
    order.crew = crew if crew is not None else order.crew
    order.scheduled_at = scheduled_at or order.scheduled_at
    order.save(update_fields=["crew", "scheduled_at"])
    when = timezone.localtime(order.scheduled_at).strftime("%Y-%m-%d %H:%M") if order.scheduled_at else ""
    _history(req, "scheduled", by, now, note=" ".join(filter(None, [str(order.crew or ""), when])))
    return order


def schedule(req: ServiceRequest, crew, scheduled_at, *, by) -> WorkOrder:
    """Send a crew at a time (the work order of a request still open)."""
    _check_worker(by, req)
    with transaction.atomic():
        locked = _locked(req)
        if not locked.is_open:
            raise DomainError("request_closed", _("The request is closed."))
        return _schedule(locked, crew, scheduled_at, by, timezone.now())


def start(req: ServiceRequest, *, by) -> ServiceRequest:
    _check_worker(by, req)
    with transaction.atomic():
        locked = _locked(req)
        before = locked.status
        REQUEST_TRANSITIONS.move(locked, RequestStatus.IN_PROGRESS)
        locked.save(update_fields=["status"])
        _history(locked, "started", by, timezone.now(), before=before)
    return locked


def _finish(locked: ServiceRequest, note: str, by, now) -> None:
    before = locked.status
    REQUEST_TRANSITIONS.move(locked, RequestStatus.DONE)
    locked.outcome, locked.closed_at = note, now
    locked.save(update_fields=["status", "outcome", "closed_at"])
    WorkOrder.objects.filter(request=locked).update(result=note, finished_at=now)
    _history(locked, "completed", by, now, note=note, before=before)
    publish(RequestCompleted(locked.pk, locked.customer_id, locked.kind))


def complete(req: ServiceRequest, note: str, *, by, work: completion.Work | None = None) -> ServiceRequest:
    """Finish a started request and do its work (a meter swapped, supply cut or reopened) in
    the same transaction: if the work is refused, the request stays in progress."""
    note = (note or "").strip()
    if not note:
        raise _required("note", _("Say what was done."))
    if req.kind in kinds.LINKED_KINDS:
        raise DomainError(
            "completed_by_move_out",
            _("A %(kind)s is completed from the move-out page, with the final reading and bill.")
            % {"kind": RequestKind(req.kind).label},
        )
    _check_worker(by, req)
    work = work or completion.Work()
    REQUEST_TRANSITIONS.check(req.status, RequestStatus.DONE)  # a wrong state first (checked again locked)
    completion.check(req, work)  # then missing figures, before locking anything
    with transaction.atomic():
        locked = _locked(req)
        REQUEST_TRANSITIONS.check(locked.status, RequestStatus.DONE)
        now = timezone.now()
        done = completion.do(locked, work, by=by, now=now)
        _finish(locked, "\n".join(filter(None, [note, done])), by, now)
    return locked


def complete_linked(req: ServiceRequest, note: str, by) -> ServiceRequest:
    """For the move-out flow: close a transfer or move-out request whose work (final reading,
    final bill, settlement) that flow has just done, in the caller's transaction. A request not
    yet started is taken through the steps it skipped, each in the history."""
    if req.kind not in kinds.LINKED_KINDS:
        raise DomainError(
            "not_linked", _("Only a name transfer or move-out is completed by the move-out flow.")
        )
    with transaction.atomic():
        locked = _locked(req)
        now = timezone.now()
        for step, action in ((RequestStatus.ASSIGNED, "assigned"), (RequestStatus.IN_PROGRESS, "started")):
            if locked.status != step and REQUEST_TRANSITIONS.allows(locked.status, step):
                before = locked.status
                locked.status = step
                _history(locked, action, by, now, before=before)
        _finish(locked, (note or "").strip(), by, now)
    return locked


def cancel(req: ServiceRequest, reason: str, *, by, refused: bool = False) -> ServiceRequest:
    """Close a request without doing it: withdrawn (cancel) or turned down (refuse), with a reason
    either way. The system may cancel (the ladder, when the debt is paid before the crew went)."""
    reason = (reason or "").strip()
    if not reason:
        raise _required("reason", _("Give the reason."))
    _check_worker(by, req)
    with transaction.atomic():
        locked = _locked(req)
        before = locked.status
        REQUEST_TRANSITIONS.move(locked, RequestStatus.CANCELLED)
        locked.outcome, locked.refused, locked.closed_at = reason, refused, timezone.now()
        locked.save(update_fields=["status", "outcome", "refused", "closed_at"])
        _history(
            locked, "refused" if refused else "cancelled", by, locked.closed_at, note=reason, before=before
        )
    return locked


def cancel_system_disconnections(customer_id: int, reason: str) -> list[ServiceRequest]:
    """The system's own disconnection orders for a customer that no crew has started yet (open
    or assigned), cancelled with ``reason``; the cancelled ones. For the collections ladder, when
    the debt is paid before the supply was cut: an order already started stays for the crew to
    finish or cancel by hand."""
    waiting = ServiceRequest.objects.filter(
        customer_id=customer_id,
        kind=RequestKind.DISCONNECTION,
        source=RequestSource.SYSTEM,
        status__in=[RequestStatus.OPEN, RequestStatus.ASSIGNED],
    ).order_by("pk")
    return [cancel(order, reason, by=None) for order in waiting]


def may_withdraw(user, req: ServiceRequest) -> bool:
    """A customer may call off its own request while nobody is on it yet: still open (nobody
    assigned), no crew or visit set on its work order, of a kind the portal offers, and not opened
    by the system (the collections ladder's orders are not the customer's to call off)."""
    if not (user.is_authenticated and is_customer(user) and user.customer_id == req.customer_id):
        return False
    if req.status != RequestStatus.OPEN or req.assigned_to_id is not None:
        return False
    if req.source == RequestSource.SYSTEM or not kinds.rule(req.kind).portal:
        return False
    order = WorkOrder.objects.filter(request_id=req.pk).values_list("crew_id", "scheduled_at").first()
    return order is None or order == (None, None)


def withdraw(req: ServiceRequest, reason: str = "", *, by) -> ServiceRequest:
    """The customer calls off its own request (may_withdraw, checked on the locked row so a
    request assigned a moment ago is not withdrawn under the staff's feet: 409). The history
    says who: the customer's login, as the action "withdrawn"."""
    if not (by is not None and is_customer(by) and by.customer_id == req.customer_id):
        raise NotAllowed("not_your_request", _("You can call off only your own requests."))
    reason = (reason or "").strip() or str(_("Withdrawn by the customer."))
    with transaction.atomic():
        locked = _locked(req)
        if not may_withdraw(by, locked):
            raise DomainError(
                "not_withdrawable",
                _("Request %(no)s is already being handled: please call us to call it off.")
                % {"no": locked.number},
            )
        before = locked.status
        REQUEST_TRANSITIONS.move(locked, RequestStatus.CANCELLED)
        locked.outcome, locked.refused, locked.closed_at = reason, False, timezone.now()
        locked.save(update_fields=["status", "outcome", "refused", "closed_at"])
        _history(locked, "withdrawn", by, locked.closed_at, note=reason, before=before)
    return locked


def add_photo(req: ServiceRequest, upload, *, by, caption: str = "") -> RequestPhoto:
    """A photo of the job (checked and shrunk as safety's site photos are)."""
    from gasworks.safety.services import photos

    content = photos.prepare(upload)
    with transaction.atomic():
        locked = _locked(req)
        now = timezone.now()
        photo = RequestPhoto(request=locked, caption=caption[:120], uploaded_at=now, uploaded_by=by)
        photo.image.save(content.name or "photo.jpg", content, save=False)
        photo.save()
        _history(locked, "photo", by, now, note=caption[:120])
    return photo


OWNER_ROLES = sorted({r.owner for r in kinds.RULES.values()} | {Role.ADMIN, Role.MANAGER})
