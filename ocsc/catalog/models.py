"""The catalog: who provides which service, in which area, by which process."""

import json
import uuid
from functools import cached_property
from typing import Any

from django.db import models
from django.utils.translation import get_language

LABEL_HELP = 'A label in each language: {"en": "...", "ur": "...", "ps": "..."}'


def label(value: dict[str, str] | None, lang: str | None = None) -> str:
    """The text of a label map in `lang` (default: the active language), falling back to English."""
    if not value:
        return ""
    lang = (lang or get_language() or "en")[:2]
    return value.get(lang) or value.get("en", "")


class Calendar(models.Model):
    """A working calendar: the work week plus national and the organization's own holidays."""

    code = models.SlugField(max_length=50, unique=True)
    workweek = models.JSONField(help_text='Working days, e.g. ["mon", "tue", "wed", "thu", "fri"]')
    country_holidays = models.CharField(max_length=2, blank=True, help_text="e.g. PK")
    extra_holidays = models.JSONField(default=list, blank=True, help_text="ISO dates")
    timezone = models.CharField(max_length=64, default="Asia/Karachi")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Jurisdiction(models.Model):
    """A node of the area tree: province › division › district › tehsil › council or ward."""

    code = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=30)
    name = models.JSONField(help_text=LABEL_HELP)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # The codes from the root down, "/"-separated and ending in "/": subtree = path prefix.
    path = models.CharField(max_length=500, unique=True, editable=False)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return label(self.name)

    @property
    def paths_up(self) -> list[str]:
        """The paths of this area and of every area that contains it, the root's first."""
        return [self.path[: i + 1] for i, c in enumerate(self.path) if c == "/"]


class OrganizationKind(models.Model):
    code = models.SlugField(max_length=30, unique=True)
    name = models.JSONField(help_text=LABEL_HELP)
    # Drawn anew in the transaction that changes any role (catalog.apps): a process keeps the
    # roles it has read by (kind, roles_key) and reads them again once the key has moved.
    roles_key = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return label(self.name)


class Role(models.Model):
    """A position in an organization kind; `reports_to` is the escalation chain."""

    kind = models.ForeignKey(OrganizationKind, on_delete=models.CASCADE, related_name="roles")
    code = models.SlugField(max_length=50)
    name = models.JSONField(help_text=LABEL_HELP)
    duty = models.JSONField(default=dict, blank=True, help_text=LABEL_HELP)
    reports_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    head = models.BooleanField(default=False, help_text="The head of the organization.")

    class Meta:
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="role_code_per_kind")]

    def __str__(self) -> str:
        return f"{label(self.name)} ({self.kind.code})"


class Organization(models.Model):
    """A service provider (a TMA, a WSSC, …) serving a set of jurisdictions."""

    code = models.SlugField(max_length=50, unique=True)
    prefix = models.CharField(
        max_length=5, unique=True, help_text="Tracking number prefix, e.g. MDN (MDN-26-000123)"
    )
    kind = models.ForeignKey(
        OrganizationKind, on_delete=models.PROTECT, related_name="organizations"
    )
    name = models.JSONField(help_text=LABEL_HELP)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="organizations")
    serves = models.ManyToManyField(Jurisdiction, related_name="organizations")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return label(self.name)


class Service(models.Model):
    """A service one organization offers; its process is the `current_process` version."""

    class Category(models.TextChoices):
        APPLICATION = "application", "Application"
        COMPLAINT = "complaint", "Complaint"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="services"
    )
    code = models.SlugField(max_length=80)
    category = models.CharField(max_length=20, choices=Category.choices)
    name = models.JSONField(help_text=LABEL_HELP)
    description = models.JSONField(default=dict, blank=True, help_text=LABEL_HELP)
    fee_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    fee_currency = models.CharField(max_length=3, default="PKR")
    requirements: models.JSONField[list[dict[str, Any]]] = models.JSONField(
        default=list, blank=True
    )
    fields: models.JSONField[list[dict[str, Any]]] = models.JSONField(default=list, blank=True)
    active = models.BooleanField(
        default=True, help_text="Offered now; a service dropped from the catalog is kept, inactive."
    )
    current_process = models.ForeignKey(
        "ProcessVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["organization", "code"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="service_code_per_org")
        ]

    def __str__(self) -> str:
        return f"{label(self.name)} — {self.organization.code}"


class ProcessVersion(models.Model):
    """An immutable, validated process spec. Publishing a change creates a new version."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="process_versions")
    number = models.PositiveIntegerField()
    # The spec as the author wrote it, as JSON text: a JSON column would not keep the order
    # of steps and actions on PostgreSQL (jsonb sorts keys), and that order is what people see.
    spec_json = models.TextField()
    digest = models.CharField(max_length=64, help_text="sha256 of the canonical spec")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["service", "number"], name="process_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.service.code} v{self.number}"

    @cached_property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = json.loads(self.spec_json)
        return spec
