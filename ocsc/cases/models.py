"""Applications, their step visits, their timeline (Events) and their documents."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ocsc.ids import uuid7
from ocsc.workflow import Category


class Channel(models.TextChoices):
    WEB = "web", "Web portal"
    MOBILE = "mobile", "Mobile app"
    API = "api", "API"
    OPEN311 = "open311", "Open311"
    SMS = "sms", "SMS"
    COUNTER = "counter", "Counter"


CATEGORY_CHOICES = [(c.value, c.value.replace("_", " ").capitalize()) for c in Category]
CLOSED = [Category.CLOSED_OK, Category.CLOSED_REJECTED, Category.CLOSED_WITHDRAWN]
# The state an application takes when the citizen withdraws it; not a step of any spec.
WITHDRAWN = "withdrawn"


class Application(models.Model):
    tracking_no = models.CharField(max_length=24, unique=True)
    # citizen and organization: no index of their own; the indexes in Meta begin with them
    # (an index fewer to write at every submission and step, of thirteen).
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="applications",
        db_index=False,
    )
    service = models.ForeignKey(
        "catalog.Service", on_delete=models.PROTECT, related_name="applications"
    )
    process = models.ForeignKey(
        "catalog.ProcessVersion", on_delete=models.PROTECT, related_name="applications"
    )
    organization = models.ForeignKey(
        "catalog.Organization",
        on_delete=models.PROTECT,
        related_name="applications",
        db_index=False,
    )
    jurisdiction = models.ForeignKey(
        "catalog.Jurisdiction", on_delete=models.PROTECT, related_name="applications"
    )
    state = models.CharField(max_length=50)
    category = models.CharField(max_length=20, choices=CATEGORY_CHOICES)
    outcome = models.CharField(max_length=20, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    data = models.JSONField(default=dict)
    location = models.JSONField(null=True, blank=True)
    current_step = models.ForeignKey(
        "Step", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(
        null=True, blank=True, help_text="The whole process's due time; moves with pauses."
    )
    paused_at = models.DateTimeField(
        null=True, blank=True, help_text="Since when the citizen holds it (the clock is paused)."
    )
    # Not a column: all of its attachments (each with its `event`), in the order they were
    # uploaded, when the code that holds the object has them all (a submission has just
    # written them), so that its answer does not read them again; None when unknown.
    attachments_known: "list[Attachment] | None" = None

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [
            # A person's own list in its whole order (queries.OWN): no sort of all of them.
            models.Index(fields=["citizen", "-submitted_at", "-id"], name="application_own"),
            models.Index(fields=["organization", "category", "-submitted_at"]),
            models.Index(fields=["organization", "-submitted_at"]),
            models.Index(fields=["organization", "closed_at"], name="application_closed"),
        ]

    def __str__(self) -> str:
        return self.tracking_no

    @property
    def is_closed(self) -> bool:
        return self.category in CLOSED


class Step(models.Model):
    """One visit of an application to a state: where it is now, and where time went."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="steps")
    # The application's, copied so that the dashboards filter steps without a join.
    organization = models.ForeignKey(
        "catalog.Organization", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    service = models.ForeignKey(
        "catalog.Service", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    state = models.CharField(max_length=50)
    owner_role = models.CharField(max_length=50, help_text="A role code, or citizen")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_steps",
    )
    entered_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    working_time = models.DurationField(null=True, blank=True)
    breached = models.BooleanField(default=False)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    # When an official's open step next escalates: its due time at first, then each further
    # level's; None once there is no level left to reach (the timers keep it).
    escalate_at = models.DateTimeField(null=True, blank=True)
    # When an open step takes its timeout action (its due time, if its process step has a
    # timeout: a citizen's, or an official's); None for every other step (the timers keep it).
    times_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["entered_at", "pk"]
        indexes = [
            # The timers' escalations: the open steps whose next level is due, in that order.
            # (Walking the late steps by due time read each not yet due for its next level,
            # and the 200 the timers take could all be such: the others never escalated.)
            models.Index(
                fields=["escalate_at"],
                name="open_step_escalate",
                condition=Q(left_at=None, escalate_at__isnull=False),
            ),
            models.Index(
                fields=["owner_role", "due_at"], name="open_step_queue", condition=Q(left_at=None)
            ),
            models.Index(fields=["due_at"], name="open_step_due", condition=Q(left_at=None)),
            # The timers' timeouts (and citizens' reminders of them): only the steps whose
            # process step has one (taken by due time, the others came first and stayed: with
            # more of them than a batch, no step timed out), not every late step first.
            models.Index(
                fields=["times_out_at"],
                name="open_step_times_out",
                condition=Q(left_at=None, times_out_at__isnull=False),
            ),
            models.Index(fields=["left_at"], name="step_left"),
            # The dashboards' (ocsc.insights): open steps, visits closed in a period, the usual
            # time of a step. They end with the columns the figures read, so that PostgreSQL
            # answers from the index alone.
            models.Index(
                fields=["organization", "due_at", "service", "state", "owner_role", "assignee"],
                name="open_step_org",
                condition=Q(left_at=None),
            ),
            models.Index(
                fields=[
                    "organization",
                    "left_at",
                    "service",
                    "state",
                    "owner_role",
                    "working_time",
                    "breached",
                    "id",
                ],
                name="step_org_left",
            ),
            models.Index(
                fields=["service", "state", "left_at", "working_time"], name="step_service_left"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.state}"


class Event(models.Model):
    """One entry of an application's timeline. Append-only; also the notification outbox."""

    class Kind(models.TextChoices):
        SUBMITTED = "application.submitted", "Submitted"
        ACTION = "step.action", "Action taken"
        RESUBMITTED = "application.resubmitted", "Resubmitted"
        WITHDRAWN = "application.withdrawn", "Withdrawn"
        COMMENT = "comment.added", "Comment"
        DOCUMENTS = "documents.attached", "Documents attached"
        ASSIGNED = "step.assigned", "Assigned"
        ESCALATED = "step.escalated", "Escalated"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public"
        INTERNAL = "internal", "Internal (staff only)"

    # No index of its own: those in Meta begin with it.
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    # The application's, copied so that the dashboards filter events without a join.
    organization = models.ForeignKey(
        "catalog.Organization", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=40, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_role = models.CharField(max_length=50, blank=True, help_text="The capacity they acted in")
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_state = models.CharField(max_length=50, blank=True)
    to_state = models.CharField(max_length=50, blank=True)
    action = models.CharField(max_length=50, blank=True)
    text = models.TextField(blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["application", "id"]),
            models.Index(
                fields=["created_at"], name="undispatched", condition=Q(dispatched_at=None)
            ),
            # The dashboards' (ocsc.insights): the actions taken in a period, read from the
            # index alone; and the last event of an application.
            models.Index(
                fields=[
                    "organization",
                    "created_at",
                    "actor_role",
                    "from_state",
                    "to_state",
                    "actor",
                    "step",
                ],
                name="event_org_action",
                condition=Q(kind="step.action"),
            ),
            models.Index(fields=["application", "created_at"], name="event_application_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.application_id}"


def private_path(instance: "Attachment", filename: str) -> str:
    return f"private/{instance.created_at:%Y/%m}/{instance.uuid}"


class Attachment(models.Model):
    """An uploaded file: held for its uploader until a submission or action uses it."""

    uuid = models.UUIDField(default=uuid7, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="uploads"
    )
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    requirement = models.CharField(max_length=50, blank=True)
    file = models.FileField(upload_to=private_path, max_length=200)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # The uploads not used yet, by age: the few the pruning timer looks for among
            # the millions bound to applications (actions.prune_unused_uploads).
            models.Index(
                fields=["created_at"],
                condition=models.Q(application__isnull=True),
                name="attachment_unused",
            )
        ]

    def __str__(self) -> str:
        return self.filename


class TrackingCounter(models.Model):
    """The last tracking number given per organization and year: gap-free, locked per row."""

    organization = models.ForeignKey("catalog.Organization", on_delete=models.CASCADE)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="one_counter_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}/{self.year}: {self.last}"
