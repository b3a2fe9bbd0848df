from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Parameter(models.Model):
    """An override of a registered parameter's default (see gasworks.system.parameters)."""

    key = models.CharField(_("key"), max_length=64, unique=True)
    value = models.CharField(_("value"), max_length=255)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("parameter")
        verbose_name_plural = _("parameters")

    def __str__(self) -> str:
        return f"{self.key}={self.value}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        from gasworks.system.parameters import forget

        forget()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        from gasworks.system.parameters import forget

        forget()
        return result


class AuditEntry(models.Model):
    """Who created, changed or deleted what, with the values before and after. Append-only."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        ACTION = "action", _("Action")
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        CORRECT = "correct", _("Corrected")
        ESTIMATE = "estimate", _("Estimated")
        RECHAIN = "rechain", _("Recalculated")
        INSTALL = "install", _("Installed")
        REMOVE = "remove", _("Removed")
        NEW_KEY = "new_key", _("New device key")
        CLOSE = "close", _("Closed")
        DISMISS = "dismiss", _("Dismissed")

    at = models.DateTimeField(_("at"), db_index=True)
    # The log's filters each read newest first through an index of their own (who, what type,
    # which action, then the time and the id: the list's order), not by sorting every matching
    # row: see audit_*_time_idx.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
    )
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    model = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=255)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["model", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor", "at", "id"], name="audit_actor_time_idx"),
            models.Index(fields=["model", "at", "id"], name="audit_model_time_idx"),
            models.Index(fields=["action", "at", "id"], name="audit_action_time_idx"),
        ]


class IdempotentRequest(models.Model):
    """The first answer to an API write sent with an Idempotency-Key, replayed for a retry. One
    table for every route that takes the header (``scope`` names the route); the unique
    (user, scope, key) makes parallel retries meet in the database: one effect, one answer."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=32)
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    response = models.JSONField(default=dict)
    status_code = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotent API request")
        verbose_name_plural = _("idempotent API requests")
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotent_request_unique_key")
        ]
