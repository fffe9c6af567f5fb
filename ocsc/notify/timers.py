"""The periodic work that keeps processes moving and nothing lost (`manage.py run_timers`).

Each timer is idempotent and safe to run in two processes at once: what it does is decided
by conditional updates (an Event's `dispatched_at`, a Step's `escalation_level`, a
notification's status) and unique constraints (one notification per recipient, channel and
subject), never by the timer remembering what it did. Each works in bounded batches.

- `sweep_events`: dispatch Events still undispatched a few seconds after they were written
  (their process died before its reaction ran, or the queue lost the task), going on past
  those whose dispatch fails;
- `resume_deliveries`: give back to the worker notifications whose task was lost, and those
  whose sender died mid-attempt (after a lease);
- `remind_officials` / `remind_citizens`: before a step falls due, and before a citizen's
  step times out;
- `escalate_late_steps`: one level up the owner's chain each time a further step timeline
  passes, up to the head;
- `time_out_steps`: a step whose timeline ran out takes its timeout action, if it has one;
- `send_digests`: once a day, each head hears of the organization's overdue work;
- `prune_task_results`: the task queue's rows of finished tasks, after
  TASK_RESULTS_KEEP_DAYS (each application leaves four or five);
- `prune_unused_uploads`: uploads nobody used before they expired (UPLOAD_HOLD), their rows
  and their files, a day later.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ocsc.cases.actions import escalate_step, prune_unused_uploads, time_out_step
from ocsc.cases.models import CLOSED, Application, Event, Step
from ocsc.catalog.models import Organization, Role
from ocsc.catalog.process import process_of, work_calendar
from ocsc.notify import actions, rules
from ocsc.notify.models import Notification, SmsMessage
from ocsc.workflow import CITIZEN, RoleChart

log = logging.getLogger(__name__)

BATCH = 200
SWEEP_BATCHES = 5  # how far one sweep goes past Events whose dispatch keeps failing
PRUNE_BATCH = 5000


def _seconds(name: str) -> timedelta:
    return timedelta(seconds=float(getattr(settings, name)))


def sweep_events(now: datetime) -> int:
    """Dispatch the Events left undispatched for NOTIFY_SWEEP_AFTER_SECONDS, oldest first, a
    batch at a time. An Event whose dispatch fails stays undispatched, for the next sweep;
    this one goes on past it to the next batch (up to SWEEP_BATCHES), so that Events that
    keep failing at the head of the line do not hold back the ones behind them."""
    waiting = Event.objects.filter(
        dispatched_at__isnull=True, created_at__lte=now - _seconds("NOTIFY_SWEEP_AFTER_SECONDS")
    ).order_by("created_at", "pk")
    done = 0
    after: tuple[datetime, int] | None = None  # the last Event tried
    for _ in range(SWEEP_BATCHES):
        batch = waiting
        if after is not None:
            moment, pk = after
            batch = batch.filter(Q(created_at__gt=moment) | Q(created_at=moment, pk__gt=pk))
        rows = list(batch.values_list("pk", "created_at")[:BATCH])
        failed = 0
        for event_id, created_at in rows:
            after = (created_at, event_id)
            try:
                actions.dispatch_event(event_id)
                done += 1
            except Exception:
                failed += 1
                log.exception("dispatching event %s failed; the next sweep tries again", event_id)
        if not failed or len(rows) < BATCH:
            break
    return done


def resume_deliveries(now: datetime) -> int:
    """Notifications due for NOTIFY_LOST_AFTER_SECONDS that nobody claimed (their task was
    lost), and those claimed longer ago than NOTIFY_SEND_LEASE_SECONDS (their sender died);
    the same for one-off SMS younger than SMS_OUTBOX_MAX_AGE_SECONDS."""
    resumed = 0
    lost = Notification.objects.filter(
        status=Notification.Status.QUEUED,
        next_attempt_at__lte=now - _seconds("NOTIFY_LOST_AFTER_SECONDS"),
    ).order_by("next_attempt_at")
    for pk, since in lost.values_list("pk", "next_attempt_at")[:BATCH]:
        resumed += actions.resume_notification(pk, status=Notification.Status.QUEUED, since=since)
    stuck = Notification.objects.filter(
        status=Notification.Status.SENDING,
        claimed_at__lte=now - _seconds("NOTIFY_SEND_LEASE_SECONDS"),
    ).order_by("claimed_at")
    for pk, claimed in stuck.values_list("pk", "claimed_at")[:BATCH]:
        if claimed is not None:
            resumed += actions.resume_notification(
                pk, status=Notification.Status.SENDING, since=claimed
            )

    fresh = SmsMessage.objects.filter(
        created_at__gte=now - _seconds("SMS_OUTBOX_MAX_AGE_SECONDS"),
        created_at__lte=now - _seconds("NOTIFY_LOST_AFTER_SECONDS"),
    )
    unclaimed = Q(claimed_at__isnull=True) | Q(
        claimed_at__lte=now - _seconds("NOTIFY_LOST_AFTER_SECONDS")
    )
    one_off = fresh.filter(
        Q(unclaimed, status=SmsMessage.Status.QUEUED)
        | Q(
            status=SmsMessage.Status.SENDING,
            claimed_at__lte=now - _seconds("NOTIFY_SEND_LEASE_SECONDS"),
        )
    )
    for pk, status, touched in one_off.values_list("pk", "status", "claimed_at")[:BATCH]:
        resumed += actions.resume_sms(pk, status=status, since=touched)
    return resumed


def _already(reason: str) -> Exists:
    return Exists(Notification.objects.filter(step=OuterRef("pk"), reason=reason))


def _open_steps() -> QuerySet[Step]:
    return Step.objects.filter(left_at__isnull=True, due_at__isnull=False).select_related(
        "assignee",
        "application__citizen",
        "application__service",
        "application__organization__calendar",
        "application__jurisdiction",
        "application__process",
    )


def remind_officials(now: datetime) -> int:
    """Steps of organizations falling due within NOTIFY_REMINDER_LEAD_HOURS, once each.
    A step opened already inside that window is not reminded: its officials just heard."""
    lead = timedelta(hours=settings.NOTIFY_REMINDER_LEAD_HOURS)
    steps = (
        _open_steps()
        .filter(due_at__gt=now, due_at__lte=now + lead, entered_at__lt=F("due_at") - lead)
        .exclude(owner_role__in=["", CITIZEN])
        .exclude(_already("reminder"))
        .order_by("due_at")
    )
    return sum(actions.notify(rules.reminders(step), now=now) for step in steps[:BATCH])


def remind_citizens(now: datetime) -> int:
    """Citizens' steps with a timeout that runs out within NOTIFY_CITIZEN_REMINDER_LEAD_HOURS."""
    lead = timedelta(hours=settings.NOTIFY_CITIZEN_REMINDER_LEAD_HOURS)
    steps = (
        _open_steps()
        .filter(
            owner_role=CITIZEN,
            times_out_at__gt=now,
            times_out_at__lte=now + lead,
            entered_at__lt=F("times_out_at") - lead,
        )
        .exclude(_already("timeout_reminder"))
        .order_by("times_out_at")
    )
    return sum(actions.notify(rules.reminders(step), now=now) for step in steps[:BATCH])


def escalation_due(step: Step, level: int) -> datetime | None:
    """When a late step reaches escalation `level`: its due time for level 1, and one more
    step timeline (on the organization's calendar) for each level above."""
    spec = process_of(step.application.process).steps.get(step.state)
    if step.due_at is None or spec is None or spec.sla is None:
        return None
    calendar = work_calendar(step.application.organization.calendar)
    moment = step.due_at
    for _ in range(level - 1):
        moment = calendar.due_at(moment, spec.sla)
    return moment


def escalate_late_steps(now: datetime) -> int:
    """Raise each late organization's step one level per passed step timeline, up to the
    head; each level is an `step.escalated` Event (which notifies that level's role).

    The steps are those whose next escalation is due (`Step.escalate_at`), soonest first;
    each then waits for its next level's time, or is done with at the head (or with no one
    above its role)."""
    chains: dict[tuple[int, str], int] = {}
    charts: dict[int, dict[str, str | None]] = {}
    for kind_id, code, boss in Role.objects.values_list("kind_id", "code", "reports_to__code"):
        charts.setdefault(kind_id, {})[code] = boss
    for kind_id, chart in charts.items():
        for code in chart:
            chains[(kind_id, code)] = len(RoleChart(reports_to=chart).chain(code))
    steps = _open_steps().filter(escalate_at__lte=now).order_by("escalate_at")
    made = 0
    for step in steps[:BATCH]:
        top = chains.get((step.application.organization.kind_id, step.owner_role), 0)
        level = step.escalation_level
        due = escalation_due(step, level + 1) if level < top else None
        while due is not None and due <= now:
            if escalate_step(step, level=level + 1) is None:
                break  # another worker did it, or the step was left meanwhile
            level += 1
            made += 1
            due = escalation_due(step, level + 1) if level < top else None
        # When it escalates next (None: never); kept only if no one else moved it meanwhile.
        Step.objects.filter(pk=step.pk, left_at__isnull=True, escalation_level=level).update(
            escalate_at=due
        )
    return made


def time_out_steps(now: datetime) -> int:
    """Steps with a timeout whose timeline ran out take their timeout action (`Step.
    times_out_at`, soonest first): a citizen's (an application left uncorrected lapses) or an
    official's. A step still open after a try that did nothing (its action refused, say) is
    not tried again: it would come first in every batch."""
    steps = _open_steps().filter(times_out_at__lte=now).order_by("times_out_at")
    made = 0
    for step in steps[:BATCH]:
        if time_out_step(step) is not None:
            made += 1
        elif Step.objects.filter(pk=step.pk, left_at__isnull=True).update(times_out_at=None):
            log.warning("step %s (%s) could not time out; left to its citizen", step.pk, step.state)
    return made


def send_digests(now: datetime) -> int:
    """From NOTIFY_DIGEST_HOUR (local time) on, once a day per organization with overdue
    work: its heads get the count and the longest-late tracking numbers."""
    local = timezone.localtime(now)
    if local.hour < settings.NOTIFY_DIGEST_HOUR:
        return 0
    day = local.date().isoformat()
    sent = Notification.objects.filter(
        reason="digest", key__startswith="digest:", key__endswith=f":{day}"
    ).values_list("key", flat=True)
    done = set(sent)
    names = dict(Organization.objects.values_list("pk", "name"))
    pending = [pk for pk in names if f"digest:{pk}:{day}" not in done]
    if not pending:  # every organization has had today's digest: nothing to count
        return 0
    # Late steps are counted by their own organization (a step's is its application's), so
    # that the count reads the open steps' index, not every application (the timers run
    # every NOTIFY_TIMER_SECONDS).
    late = (
        Step.objects.filter(left_at__isnull=True, due_at__lt=now, organization_id__in=pending)
        .exclude(owner_role__in=["", CITIZEN])
        .exclude(
            Exists(Application.objects.filter(pk=OuterRef("application_id"), category__in=CLOSED))
        )
    )
    made = 0
    counts = (
        late.values_list("organization_id").annotate(count=Count("pk")).order_by("organization_id")
    )
    for organization_id, count in counts:
        longest = late.filter(organization_id=organization_id).order_by("due_at")
        numbers = list(longest.values_list("application__tracking_no", flat=True)[:5])
        messages = rules.digest(
            organization_id,
            day=day,
            count=count,
            late=numbers,
            name=names.get(organization_id) or {},
        )
        made += actions.notify(messages, now=now)
    return made


def prune_task_results(now: datetime) -> int:
    """Delete up to PRUNE_BATCH rows of tasks that finished (ran or failed) more than
    TASK_RESULTS_KEEP_DAYS ago: the queue table would otherwise grow by a few rows for each
    application, forever. What a task did is in its own rows (events, notifications)."""
    cutoff = now - timedelta(days=settings.TASK_RESULTS_KEEP_DAYS)
    old = DBTaskResult.objects.filter(finished_at__lt=cutoff).order_by("finished_at")
    ids = list(old.values_list("pk", flat=True)[:PRUNE_BATCH])
    if not ids:
        return 0
    deleted, _ = DBTaskResult.objects.filter(pk__in=ids).delete()
    return deleted


TIMERS: list[tuple[str, Callable[[datetime], int]]] = [
    ("dispatched", sweep_events),
    ("resumed", resume_deliveries),
    ("timed_out", time_out_steps),
    ("escalated", escalate_late_steps),
    ("reminded", remind_officials),
    ("reminded_citizens", remind_citizens),
    ("digests", send_digests),
    ("pruned_task_results", prune_task_results),
    ("pruned_uploads", prune_unused_uploads),
]


def run_timers(now: datetime | None = None) -> dict[str, int]:
    """Run every timer once; one that fails is logged and does not stop the others."""
    results: dict[str, int] = {}
    for name, timer in TIMERS:
        try:
            results[name] = timer(now if now is not None else timezone.now())
        except Exception:
            log.exception("the %s timer failed; it runs again next time", name)
            results[name] = 0
    return results
