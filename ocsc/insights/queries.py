"""Figures for heads and monitors: where applications are, where time goes, who is late.

Every function takes the organizations in view and a period, runs a bounded number of
queries on indexed columns (organization, submitted_at, closed_at, left_at, due_at), and
does the arithmetic (medians, percentiles, working time) in Python on the period's rows.
Percentiles interpolate linearly between ranks, as PostgreSQL's percentile_cont does."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from ocsc.cases.models import CLOSED, Application, Event, Step
from ocsc.catalog.models import Organization, ProcessVersion, Service
from ocsc.catalog.process import process_of, work_calendar
from ocsc.workflow import CITIZEN, WorkCalendar, main_path

DAY = timedelta(days=1)
OPEN = ["open", "waiting_citizen"]


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @classmethod
    def last_days(cls, days: int, now: datetime | None = None) -> "Period":
        end = now or timezone.now()
        return cls(end - days * DAY, end)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


# Headline ---------------------------------------------------------------------------------


@dataclass
class ServiceFigures:
    service_id: int
    organization_id: int
    code: str
    name: dict[str, str]
    received: int = 0
    completed: int = 0
    open: int = 0
    overdue: int = 0
    on_time: int = 0
    median_days: float | None = None
    p90_days: float | None = None

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.completed if self.completed else None


def headline(organizations: Iterable[int], period: Period) -> list[ServiceFigures]:
    """Per service: received and completed in the period, open and overdue now, the share
    completed within the prescribed time, and the median and 90th percentile time to
    complete in working days of the organization's calendar."""
    orgs = list(organizations)
    now = timezone.now()
    services = {
        s.pk: s
        for s in Service.objects.filter(organization_id__in=orgs).select_related(
            "organization__calendar"
        )
    }
    figures = {
        pk: ServiceFigures(pk, s.organization_id, s.code, s.name) for pk, s in services.items()
    }
    apps = Application.objects.filter(organization_id__in=orgs)
    # Three narrow queries, each on an index, rather than one pass over every application.
    received = (
        apps.filter(submitted_at__gte=period.start, submitted_at__lt=period.end)
        .values("service_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("service_id", "n")
    )
    for service_id, n in received:
        if service_id in figures:
            figures[service_id].received = n
    for service_id, n_open, n_overdue in (
        apps.filter(category__in=OPEN)
        .values("service_id")
        .annotate(
            n=Count("pk"),
            late=Count("pk", filter=Q(category="open", current_step__due_at__lt=now)),
        )
        .order_by()
        .values_list("service_id", "n", "late")
    ):
        if service_id in figures:
            figures[service_id].open, figures[service_id].overdue = n_open, n_overdue
    durations: dict[int, list[float]] = defaultdict(list)
    calendars: dict[int, WorkCalendar] = {}
    for service_id, submitted, closed, due in apps.filter(
        category="closed_ok", closed_at__gte=period.start, closed_at__lt=period.end
    ).values_list("service_id", "submitted_at", "closed_at", "due_at"):
        item = figures[service_id]
        item.completed += 1
        if closed is None:
            continue
        if due is None or closed <= due:
            item.on_time += 1
        calendar = calendars.get(service_id)
        if calendar is None:
            calendar = calendars[service_id] = work_calendar(
                services[service_id].organization.calendar
            )
        durations[service_id].append(_days(calendar.working_time(submitted, closed)))
    for service_id, values in durations.items():
        figures[service_id].median_days = percentile(values, 50)
        figures[service_id].p90_days = percentile(values, 90)
    return sorted(
        (f for f in figures.values() if f.received or f.open or f.completed),
        key=lambda f: (-f.overdue, -f.open, f.code),
    )


# Bottlenecks ------------------------------------------------------------------------------


@dataclass
class StepFigures:
    service_id: int
    service_name: dict[str, str]
    state: str
    step_name: dict[str, str] | None
    owner: str
    unit: str  # "d" or "h": how the step's timeline counts
    open: int = 0
    overdue: int = 0
    visits: int = 0  # closed in the period
    breached: int = 0
    returns: int = 0  # times the step sent applications back to the citizen
    times: list[float] = field(default_factory=list, repr=False)  # in the step's unit

    @property
    def breach_share(self) -> float | None:
        return self.breached / self.visits if self.visits else None

    @property
    def median(self) -> float | None:
        return percentile(self.times, 50)

    @property
    def p90(self) -> float | None:
        return percentile(self.times, 90)


def _processes(service_ids: Iterable[int]) -> dict[int, list[Any]]:
    """The processes (all versions) of the services, for step names, owners and units."""
    found: dict[int, list[Any]] = defaultdict(list)
    for version in ProcessVersion.objects.filter(service_id__in=list(service_ids)).order_by(
        "service_id", "-number"
    ):
        found[version.service_id].append(process_of(version))
    return found


def bottlenecks(organizations: Iterable[int], period: Period) -> list[StepFigures]:
    """For each service and step: open and overdue now, the time spent by visits closed in
    the period (median, 90th percentile), the share that breached the step's timeline, and
    the returns to the citizen. The worst first: most overdue, then most breached."""
    orgs = list(organizations)
    now = timezone.now()
    services = dict(Service.objects.filter(organization_id__in=orgs).values_list("pk", "name"))
    processes = _processes(services)
    rows: dict[tuple[int, str], StepFigures] = {}

    def row(service_id: int, state: str) -> StepFigures:
        key = (service_id, state)
        if key not in rows:
            spec = next(
                (p.steps[state] for p in processes.get(service_id, []) if state in p.steps), None
            )
            rows[key] = StepFigures(
                service_id=service_id,
                service_name=services.get(service_id, {}),
                state=state,
                step_name=spec.name if spec else None,
                owner=(spec.owner or "") if spec else "",
                unit=spec.sla.unit if spec and spec.sla else "d",
            )
        return rows[key]

    steps = Step.objects.filter(application__organization_id__in=orgs)
    for item in (
        steps.filter(left_at__isnull=True)
        .values("application__service_id", "state")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
        .order_by()
    ):
        figures = row(item["application__service_id"], item["state"])
        figures.open, figures.overdue = item["open"], item["overdue"]
    for service_id, state, spent, breached in steps.filter(
        left_at__gte=period.start, left_at__lt=period.end
    ).values_list("application__service_id", "state", "working_time", "breached"):
        figures = row(service_id, state)
        figures.visits += 1
        figures.breached += breached
        if spent is not None:
            hours = spent.total_seconds() / 3600
            figures.times.append(hours / 24 if figures.unit == "d" else hours)
    citizen_states = {
        service_id: {
            code for p in versions for code, step in p.steps.items() if step.owner == CITIZEN
        }
        for service_id, versions in processes.items()
    }
    for service_id, from_state, to_state, n in (
        Event.objects.filter(
            application__organization_id__in=orgs,
            kind=Event.Kind.ACTION,
            created_at__gte=period.start,
            created_at__lt=period.end,
        )
        .values("application__service_id", "from_state", "to_state")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("application__service_id", "from_state", "to_state", "n")
    ):
        if to_state in citizen_states.get(service_id, set()) and from_state:
            row(service_id, from_state).returns += n
    return sorted(
        (r for r in rows.values() if r.owner != CITIZEN),
        key=lambda r: (-r.overdue, -(r.breach_share or 0), -(r.p90 or 0), r.state),
    )


# People -----------------------------------------------------------------------------------


@dataclass
class Workload:
    key: str  # a role code, or a user's name
    user_id: int | None
    open: int = 0
    overdue: int = 0
    completed: int = 0
    times: list[float] = field(default_factory=list, repr=False)  # hours of working time

    @property
    def median_hours(self) -> float | None:
        return percentile(self.times, 50)


def people(organizations: Iterable[int], period: Period) -> tuple[list[Workload], list[Workload]]:
    """(per official, per role): open and overdue work now, steps completed in the period and
    the median working time they took."""
    orgs = list(organizations)
    now = timezone.now()
    by_role: dict[str, Workload] = {}
    by_user: dict[int, Workload] = {}
    steps = Step.objects.filter(application__organization_id__in=orgs).exclude(owner_role=CITIZEN)
    for item in (
        steps.filter(left_at__isnull=True)
        .values("owner_role", "assignee_id", "assignee__name", "assignee__phone")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
        .order_by()
    ):
        role = by_role.setdefault(item["owner_role"], Workload(item["owner_role"], None))
        role.open += item["open"]
        role.overdue += item["overdue"]
        if item["assignee_id"]:
            name = item["assignee__name"] or item["assignee__phone"]
            person = by_user.setdefault(item["assignee_id"], Workload(name, item["assignee_id"]))
            person.open += item["open"]
            person.overdue += item["overdue"]
    closing = Event.objects.filter(
        application__organization_id__in=orgs,
        kind=Event.Kind.ACTION,
        created_at__gte=period.start,
        created_at__lt=period.end,
        step__isnull=False,
    ).exclude(actor_role=CITIZEN)
    for role_code, actor_id, name, phone, spent in closing.values_list(
        "step__owner_role", "actor_id", "actor__name", "actor__phone", "step__working_time"
    ):
        if role_code == CITIZEN:
            continue
        hours = spent.total_seconds() / 3600 if spent is not None else None
        role = by_role.setdefault(role_code, Workload(role_code, None))
        role.completed += 1
        if hours is not None:
            role.times.append(hours)
        if actor_id:
            person = by_user.setdefault(actor_id, Workload(name or phone, actor_id))
            person.completed += 1
            if hours is not None:
                person.times.append(hours)
    order = lambda w: (-w.overdue, -w.open, w.key)  # noqa: E731
    return sorted(by_user.values(), key=order), sorted(by_role.values(), key=order)


# Stalled and late ---------------------------------------------------------------------------


def working_days_ago(calendar: WorkCalendar, days: int, now: datetime) -> datetime:
    """The instant `days` working days before `now` on the calendar."""
    moment = now
    counted = 0
    while counted < days:
        moment -= DAY
        if calendar.is_working_day(moment):
            counted += 1
    return moment


def stalled(organizations: Iterable[int], days: int = 5) -> QuerySet[Application]:
    """Open applications with no event for `days` working days (of the first organization's
    calendar), the longest silent first."""
    orgs = list(organizations)
    now = timezone.now()
    calendar_row = Organization.objects.filter(pk__in=orgs).select_related("calendar").first()
    cutoff = (
        working_days_ago(work_calendar(calendar_row.calendar), days, now)
        if calendar_row
        else now - days * DAY
    )
    return (
        Application.objects.filter(organization_id__in=orgs, category__in=OPEN)
        .annotate(last_event=Max("events__created_at"))
        .filter(last_event__lt=cutoff)
        .select_related("service", "organization", "current_step")
        .order_by("last_event")
    )


def overdue_steps(organizations: Iterable[int]) -> QuerySet[Step]:
    """Open organization-owned steps past their due time, the oldest overdue first."""
    return (
        Step.objects.filter(
            application__organization_id__in=list(organizations),
            left_at__isnull=True,
            due_at__lt=timezone.now(),
        )
        .exclude(owner_role=CITIZEN)
        .select_related("application__service", "assignee")
        .order_by("due_at")
    )


def trend(organizations: Iterable[int], period: Period) -> list[tuple[date, int, int]]:
    """(day, received, completed) for each day of the period."""
    orgs = list(organizations)
    apps = Application.objects.filter(organization_id__in=orgs)
    received = dict(
        apps.filter(submitted_at__gte=period.start, submitted_at__lt=period.end)
        .annotate(day=TruncDate("submitted_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("day", "n")
    )
    completed = dict(
        apps.filter(category__in=CLOSED, closed_at__gte=period.start, closed_at__lt=period.end)
        .annotate(day=TruncDate("closed_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("day", "n")
    )
    first = timezone.localtime(period.start).date()
    last = timezone.localtime(period.end).date()
    days = [first + i * DAY for i in range((last - first).days + 1)]
    return [(day, received.get(day, 0), completed.get(day, 0)) for day in days]


# Expected completion ------------------------------------------------------------------------


def typical_step_times(
    service_ids: Iterable[int], since: datetime
) -> dict[tuple[int, str], timedelta]:
    """The median working time of each (service, step) over closed visits since `since`."""
    values: dict[tuple[int, str], list[float]] = defaultdict(list)
    for service_id, state, spent in Step.objects.filter(
        application__service_id__in=list(service_ids),
        left_at__gte=since,
        working_time__isnull=False,
    ).values_list("application__service_id", "state", "working_time"):
        if spent is not None:
            values[(service_id, state)].append(spent.total_seconds())
    return {key: timedelta(seconds=percentile(seconds, 50) or 0) for key, seconds in values.items()}


def expected_completion(
    applications: Sequence[Application], *, now: datetime | None = None
) -> dict[int, datetime | None]:
    """For open applications: now plus the typical time of the steps left on the main path
    (the current one counted from when it was entered), on the organization's calendar."""
    now = now or timezone.now()
    open_ones = [a for a in applications if a.current_step is not None and not a.is_closed]
    typical = typical_step_times({a.service_id for a in open_ones}, now - 365 * DAY)
    result: dict[int, datetime | None] = {a.pk: None for a in applications}
    for application in open_ones:
        step = application.current_step
        assert step is not None  # noqa: S101 - filtered above
        process = process_of(application.process)
        path = main_path(process, start=step.state) or []
        calendar = work_calendar(application.organization.calendar)
        remaining = timedelta(0)
        for index, state in enumerate(path):
            if process.steps[state].terminal:
                break
            usual = typical.get((application.service_id, state))
            if usual is None:
                spec = process.steps[state]
                usual = (
                    timedelta(days=spec.sla.amount)
                    if spec.sla and spec.sla.unit == "d"
                    else timedelta(hours=spec.sla.amount)
                    if spec.sla
                    else timedelta(0)
                )
            if index == 0:
                usual = max(usual - calendar.working_time(step.entered_at, now), timedelta(0))
            remaining += usual
        result[application.pk] = calendar.add_working_time(now, remaining)
    return result
