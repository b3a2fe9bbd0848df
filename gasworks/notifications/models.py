"""The outbox and what decides it: messages, customers' preferences, and the texts."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")
    PORTAL = "portal", _("Portal")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Not sent")


class EventLabel:
    """The event's label for people (its code for a kind no longer known)."""

    event: str

    @property
    def event_label(self):
        from gasworks.notifications.texts import KINDS

        kind = KINDS.get(self.event)
        return kind.label if kind else self.event


class Message(EventLabel, models.Model):
    """One message to one customer on one channel. `key` is unique for the customer: the event's own key (e.g.
    `bill_issued:bill:42`) and the channel, so an event can never give two messages on a channel.
    `variables` are what the text is made of; the text is worded in the customer's language when
    the message is sent (a template fixed later still applies to what is queued)."""

    # No database foreign key: every writer takes the customer from a join with the customers in
    # the same statement (a billing run's notices) or reads it first (enqueue), and a key check
    # per row was a tenth of what a run's notices cost the database (two million rows a run).
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
        db_constraint=False,
    )
    event = models.CharField(_("event"), max_length=32)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    # Unique with the customer (Meta): see there.
    key = models.CharField(max_length=120)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    safety = models.BooleanField(_("safety message"), default=False)
    language = models.CharField(max_length=8, default="zh-hans")
    variables = models.JSONField(default=dict)
    address = models.CharField(_("sent to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    text = models.TextField(_("text"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_try_at = models.DateTimeField(_("next try"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Our id for the claim that is sending it, given to the provider (Aliyun OutId, Tencent
    # SessionContext) so that a message caught mid-send can be looked up there.
    out_id = models.CharField(max_length=32, blank=True, default="", db_default="")
    provider = models.CharField(_("provider"), max_length=16, blank=True)
    provider_ref = models.CharField(_("provider's reference"), max_length=80, blank=True)
    error = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    # Not a column: the variables looked up when the message is worded (sender.prefetch_late).
    late: dict | None = None

    class Meta:
        ordering = ["-created_at", "-pk"]
        # A billing run writes two or three rows a bill (a million accounts: millions of rows in
        # the run's transactions), so each index is chosen for what it costs a run:
        # - the key is unique per customer, led by the customer: a run writes a chunk's customers
        #   in order, so its inserts land together in the index instead of all over a key index
        #   of millions (random leaf pages are what made the run slow at scale: each is read, split
        #   and written again in full after every checkpoint). The same index serves a customer's
        #   messages (portal, customer page, the daily cap): a few dozen rows a year, sorted.
        # - the sender's queue and the problems (failed, suppressed) are partial indexes: a
        #   delivered message leaves the first, and most never enter the second.
        # The outbox page lists the newest first through the primary key.
        constraints = [
            models.UniqueConstraint(fields=["customer", "key"], name="message_customer_key_unique"),
        ]
        indexes = [
            # The sender's queue: only what is waiting, in the order it becomes due.
            models.Index(
                fields=["next_try_at"],
                name="message_due_idx",
                condition=models.Q(status__in=["queued", "sending"]),
            ),
            models.Index(
                fields=["status", "-id"],
                name="message_problem_idx",
                condition=models.Q(status__in=["failed", "suppressed"]),
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.customer_id} ({self.channel})"


class Preference(models.Model):
    """A customer's channels and the kinds of message opted out of. The portal is always on;
    safety messages reach every channel the customer has whatever they opted out of."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="notification_preference"
    )
    sms = models.BooleanField(_("SMS"), default=True)
    wechat = models.BooleanField(_("WeChat"), default=False)
    email = models.BooleanField(_("Email"), default=False)
    email_address = models.EmailField(_("email address"), blank=True)
    wechat_openid = models.CharField(_("WeChat OpenID"), max_length=64, blank=True)
    opt_out = models.JSONField(_("kinds opted out of"), default=list, blank=True)
    language = models.CharField(
        _("language"), max_length=8, default="zh-hans", choices=[("zh-hans", "简体中文"), ("en", "English")]
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return str(self.customer_id)


class Template(EventLabel, models.Model):
    """An admin's wording of one event on one channel in one language; without one, the
    built-in text (texts.py) is used. Saving checks every variable it names exists."""

    event = models.CharField(_("event"), max_length=32)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    provider_template = models.CharField(_("provider's template id"), max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "channel", "language"], name="one_template_per_kind")
        ]

    def __str__(self):
        return f"{self.event}/{self.channel}/{self.language}"


class InterruptionStatus(models.TextChoices):
    ANNOUNCED = "announced", _("Announced")
    CANCELLED = "cancelled", _("Cancelled")


class SupplyInterruption(models.Model):
    """A planned supply interruption (停气) in a district, or in some of its streets. Every change
    raises `version`, and each version is told once per customer and channel."""

    district = models.CharField(_("district"), max_length=64)
    streets = models.JSONField(_("streets"), default=list, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=InterruptionStatus.choices, default=InterruptionStatus.ANNOUNCED
    )
    version = models.PositiveIntegerField(default=1)
    customers_told = models.PositiveIntegerField(_("customers told"), default=0)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    # When customers were told the supply is back (after the end; once per interruption).
    restored_at = models.DateTimeField(_("supply restored told at"), null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        permissions = [("announce_supplyinterruption", _("Can announce supply interruptions"))]

    def __str__(self):
        return f"{self.district} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def area(self) -> str:
        return f"{self.district} {'、'.join(self.streets)}".strip()
