"""The audit log. Signals are used here and only here: they catch every save, whatever path
(service, admin, shell) it took. The acting user comes from a context variable set per request."""

import contextvars
import json
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.forms.models import model_to_dict
from django.utils import timezone

_actor: contextvars.ContextVar = contextvars.ContextVar("gasworks_audit_actor", default=None)

# Values never written to the log, and bookkeeping fields whose change alone is not news.
SECRET_FIELDS = {"password", "key", "secret", "key_hash"}
NOISE_FIELDS = {"last_login", "updated_at"}


@contextmanager
def acting_as(user):
    token = _actor.set(user if getattr(user, "is_authenticated", False) else None)
    try:
        yield
    finally:
        _actor.reset(token)


def current_actor():
    return _actor.get()


def plain(data: dict) -> dict:
    """``data`` with dates, decimals and model instances as the plain values JSON keeps."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, default=str))


def snapshot(instance) -> dict:
    data = model_to_dict(instance)
    return plain({k: v for k, v in data.items() if k not in SECRET_FIELDS | NOISE_FIELDS})


def record(action: str, instance, before=None, after=None, note: str = "", actor=None) -> None:
    from gasworks.system.models import AuditEntry

    AuditEntry.objects.create(
        at=timezone.now(),
        actor=actor or current_actor(),
        action=action,
        model=instance._meta.label,
        object_id=str(instance.pk),
        object_repr=str(instance)[:255],
        before=before,
        after=after,
        note=note[:255],
    )


def _pre_save(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        instance._audit_before = None
        return
    old = sender.objects.filter(pk=instance.pk).first()
    instance._audit_before = snapshot(old) if old is not None else None


def _post_save(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, "_audit_before", None)
    after = snapshot(instance)
    if created:
        record("create", instance, None, after)
        return
    changed_before = {k: v for k, v in (before or {}).items() if after.get(k) != v}
    if not changed_before and before is not None:
        return  # nothing changed: no noise in the log
    record("update", instance, changed_before, {k: after[k] for k in changed_before} if before else after)


def _post_delete(sender, instance, **kwargs):
    record("delete", instance, snapshot(instance), None)


def _m2m_changed(sender, instance, action, pk_set, model, **kwargs):
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    field = "groups" if model is Group else model._meta.model_name + "s"
    note = f"{field} {action.removeprefix('post_')}"  # gasworks.system.auditlog.NOTES words it
    record("update", instance, None, {field: sorted(pk_set or [])}, note=note)


def watch(model) -> None:
    uid = f"audit:{model._meta.label}"
    pre_save.connect(_pre_save, sender=model, dispatch_uid=uid + ":pre")
    post_save.connect(_post_save, sender=model, dispatch_uid=uid + ":post")
    post_delete.connect(_post_delete, sender=model, dispatch_uid=uid + ":del")


def connect_default_models() -> None:
    from django.contrib.auth.models import Permission  # noqa: F401  (roles change through groups)

    from gasworks.customers.models import Customer, Premises
    from gasworks.system.models import Parameter

    user_model = get_user_model()
    for model in (user_model, Group, Customer, Premises, Parameter):
        watch(model)
    m2m_changed.connect(_m2m_changed, sender=Group.permissions.through, dispatch_uid="audit:group-perms")
