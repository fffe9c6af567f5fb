"""Third-party clients, their API keys, the per-minute request counters and what they filed."""

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

DEFAULT_RATE_PER_MINUTE = 60


class ApiClient(models.Model):
    """A named third party (a complaint app, a city system) that is issued API keys."""

    name = models.CharField(max_length=100, unique=True)
    contact = models.CharField(
        max_length=200, blank=True, help_text="Who to call about it: a person, e-mail or phone."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = "API client"

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A client's key: shown once when issued, stored as its sha256, limited per minute."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="keys")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="The first characters, to tell keys apart")
    rate_per_minute = models.PositiveIntegerField(
        default=DEFAULT_RATE_PER_MINUTE,
        validators=[MinValueValidator(1)],
        help_text="Requests allowed in each clock minute; more get 429 Too Many Requests.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(
        null=True, blank=True, help_text="The first request of the latest minute it was used in."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… of {self.client.name}"


class RateWindow(models.Model):
    """How many requests a key made in one clock minute: a fixed-window counter in the
    database, so that every app server counts against the same limit."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField(help_text="The start of the minute")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "minute"], name="one_window_per_key_minute")
        ]

    def __str__(self) -> str:
        return f"{self.key_id} at {self.minute:%Y-%m-%d %H:%M}: {self.count}"


class FiledRequest(models.Model):
    """Which key filed an application on a citizen's behalf (Open311 POST requests)."""

    application = models.OneToOneField(
        "cases.Application", on_delete=models.CASCADE, related_name="filed_by"
    )
    key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="filed")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.application_id} by key {self.key_id}"
