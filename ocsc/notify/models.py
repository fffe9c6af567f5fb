"""The outboxes: one Notification row per recipient, channel and subject (an Event, a timer's
reminder, a digest), each delivery attempt, the SMS outbox for one-off texts, and what each
person chose to receive."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ocsc.ids import uuid7


class SmsMessage(models.Model):
    """The SMS outbox for one-off texts (sign-in codes, replies to texts received): every
    message is written before it is handed to a gateway."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    phone = models.CharField(max_length=16, db_index=True)
    text = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    gateway = models.CharField(max_length=100, blank=True)
    gateway_reference = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"SMS to {self.phone} ({self.status})"


class Channel(models.TextChoices):
    IN_APP = "in_app", "In the app"
    SMS = "sms", "SMS"
    EMAIL = "email", "E-mail"
    PUSH = "push", "Push (installed app)"


class Topic(models.TextChoices):
    """What a notification is about, as people choose their channels for it."""

    RECEIPT = "receipt", "Receipt with the tracking number"
    DECISION = "decision", "Decisions, and anything waiting for the applicant"
    PROGRESS = "progress", "Other progress on an application"
    WORK = "work", "New work, assignments and reminders"
    ESCALATION = "escalation", "Late work escalated"
    DIGEST = "digest", "Daily digest of overdue work"


class Notification(models.Model):
    """One message to one person by one channel about one thing (`key`): an Event
    (``event:<id>``), a reminder (``reminder:<step id>``), a digest. Unique per recipient,
    channel and key, so making it twice makes it once. In-app notifications are delivered
    when written; the others wait in the outbox for the worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Gave up"

    uuid = models.UUIDField(
        default=uuid7, unique=True, editable=False, help_text="Sent to gateways as reference"
    )
    # recipient and step: no index of their own; indexes in Meta begin with them.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    key = models.CharField(max_length=80, help_text="What it is about: event:<id>, reminder:<id>…")
    reason = models.CharField(max_length=30, help_text="The text it was written from")
    topic = models.CharField(max_length=20, choices=Topic.choices)
    application = models.ForeignKey(
        "cases.Application",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    event = models.ForeignKey(
        "cases.Event", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    step = models.ForeignKey(
        "cases.Step",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    address = models.CharField(
        max_length=254, blank=True, help_text="The phone number or e-mail address used"
    )
    title = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="The last attempt's error")
    reference = models.CharField(max_length=200, blank=True, help_text="The gateway's reference")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "channel", "key"], name="one_notification_per_channel"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notification_pending",
                condition=Q(status__in=["queued", "sending"]),
            ),
            models.Index(fields=["recipient", "channel", "-created_at"], name="notification_inbox"),
            models.Index(fields=["step", "reason"], name="notification_step"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} to {self.recipient_id} by {self.channel} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try at handing a notification over: when, and what went wrong."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["notification", "number", "pk"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.notification_id}: {'ok' if self.ok else 'failed'}"


class Preferences(models.Model):
    """The channels a person chose per topic ({topic: [channel, …]}); in-app is always on.
    Without a row, the defaults of `ocsc.notify.rules.DEFAULT_CHANNELS` apply."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_preferences"
    )
    channels = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"channels of {self.user_id}"


class PushSubscription(models.Model):
    """A browser's or installed app's web-push subscription, made on the profile page."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"push subscription of {self.user_id}"


class InboundSms(models.Model):
    """A text received through the gateway, and the reply queued for it."""

    phone = models.CharField(max_length=16)
    text = models.CharField(max_length=500)
    received_at = models.DateTimeField(default=timezone.now)
    reply = models.ForeignKey(
        SmsMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "inbound SMS"
        verbose_name_plural = "inbound SMS"

    def __str__(self) -> str:
        return f"SMS from {self.phone}"
