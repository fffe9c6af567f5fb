"""Figures for heads and monitors: where applications are, where time goes, who is late.

Every function takes the organizations in view and a period and runs a bounded number of
queries, each on an index that starts with the organization (steps and events carry their
application's organization, and steps its service, for this) and ends with the time the
period bounds (submitted_at, closed_at, left_at, created_at, due_at). The arithmetic
(medians, percentiles, working time) happens in Python on the period's rows; only for the
usual time of each step, over a year of visits, PostgreSQL finds the middle values itself.
Percentiles interpolate linearly between ranks, as PostgreSQL's percentile_cont does."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, F, Field, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from ocsc.accounts.models import User
from ocsc.cases.models import CLOSED, Application, Event, Step
from ocsc.catalog.models import Organization, ProcessVersion, Service
from ocsc.catalog.process import process_of, work_calendar
from ocsc.insights.clock import WorkingTime, working_time_on
from ocsc.workflow import CITIZEN, Process, WorkCalendar, main_path
from ocsc.workflow import Step as ProcessStep

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
    clocks: dict[int, WorkingTime] = {}
    for service_id, submitted, closed, due in (
        apps.filter(category="closed_ok", closed_at__gte=period.start, closed_at__lt=period.end)
        .order_by()
        .values_list("service_id", "submitted_at", "closed_at", "due_at")
    ):
        item = figures[service_id]
        item.completed += 1
        if closed is None:
            continue
        if due is None or closed <= due:
            item.on_time += 1
        clock = clocks.get(service_id)
        if clock is None:
            clock = clocks[service_id] = working_time_on(
                work_calendar(services[service_id].organization.calendar)
            )
        durations[service_id].append(_days(clock(submitted, closed)))
    for service_id, values in durations.items():
        figures[service_id].median_days = percentile(values, 50)
        figures[service_id].p90_days = percentile(values, 90)
    return sorted(
        (f for f in figures.values() if f.received or f.open or f.completed),
        key=lambda f: (-f.overdue, -f.open, f.code),
    )


@dataclass
class OrganizationFigures:
    organization_id: int
    received: int = 0
    completed: int = 0
    open: int = 0
    overdue: int = 0
    on_time: int = 0

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.completed if self.completed else None


def totals(organizations: Iterable[int], period: Period) -> dict[int, OrganizationFigures]:
    """A monitor's row per organization: the headline's counts summed over its services, in
    three queries for all the organizations, and without the times to complete (which take
    every completed application's row)."""
    orgs = list(organizations)
    now = timezone.now()
    figures = {pk: OrganizationFigures(pk) for pk in orgs}
    apps = Application.objects.filter(organization_id__in=orgs).order_by()
    for org, n in (
        apps.filter(submitted_at__gte=period.start, submitted_at__lt=period.end)
        .values("organization_id")
        .annotate(n=Count("pk"))
        .values_list("organization_id", "n")
    ):
        figures[org].received = n
    for org, n_open, n_overdue in (
        apps.filter(category__in=OPEN)
        .values("organization_id")
        .annotate(
            n=Count("pk"),
            late=Count("pk", filter=Q(category="open", current_step__due_at__lt=now)),
        )
        .values_list("organization_id", "n", "late")
    ):
        figures[org].open, figures[org].overdue = n_open, n_overdue
    for org, n, on_time in (
        apps.filter(category="closed_ok", closed_at__gte=period.start, closed_at__lt=period.end)
        .values("organization_id")
        .annotate(
            n=Count("pk"),
            on_time=Count("pk", filter=Q(due_at__isnull=True) | Q(closed_at__lte=F("due_at"))),
        )
        .values_list("organization_id", "n", "on_time")
    ):
        figures[org].completed, figures[org].on_time = n, on_time
    return figures


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

    steps = Step.objects.filter(organization_id__in=orgs)
    for item in (
        steps.filter(left_at__isnull=True)
        .values("service_id", "state")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
        .order_by()
    ):
        figures = row(item["service_id"], item["state"])
        figures.open, figures.overdue = item["open"], item["overdue"]
    for service_id, state, spent, breached in (
        steps.filter(left_at__gte=period.start, left_at__lt=period.end)
        .order_by()
        .values_list("service_id", "state", "working_time", "breached")
    ):
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
    # Only the moves into a citizen's step are returns: the others need no join.
    into_citizen_steps = {code for codes in citizen_states.values() for code in codes}
    for service_id, from_state, to_state, n in (
        Event.objects.filter(
            organization_id__in=orgs,
            kind=Event.Kind.ACTION,
            created_at__gte=period.start,
            created_at__lt=period.end,
            to_state__in=sorted(into_citizen_steps),
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
    steps = Step.objects.filter(organization_id__in=orgs).exclude(owner_role=CITIZEN)
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
        organization_id__in=orgs,
        kind=Event.Kind.ACTION,
        created_at__gte=period.start,
        created_at__lt=period.end,
        step__isnull=False,
        # Always true (an action closes the step it acts on, at that moment), and it lets
        # PostgreSQL find those steps on an index rather than read them all.
        step__organization_id__in=orgs,
        step__left_at__gte=period.start,
    ).exclude(actor_role=CITIZEN)
    completed: dict[int, list[float | None]] = defaultdict(list)  # hours, per official
    for role_code, actor_id, spent in closing.order_by().values_list(
        "step__owner_role", "actor_id", "step__working_time"
    ):
        if role_code == CITIZEN:
            continue
        hours = spent.total_seconds() / 3600 if spent is not None else None
        role = by_role.setdefault(role_code, Workload(role_code, None))
        role.completed += 1
        if hours is not None:
            role.times.append(hours)
        if actor_id:
            completed[actor_id].append(hours)
    # The officials' names in one query, rather than joined to each of their actions.
    for actor_id, name, phone in User.objects.filter(pk__in=sorted(completed)).values_list(
        "pk", "name", "phone"
    ):
        person = by_user.setdefault(actor_id, Workload(name or phone, actor_id))
        person.completed += len(completed[actor_id])
        person.times.extend(hours for hours in completed[actor_id] if hours is not None)
    order = lambda w: (-w.overdue, -w.open, w.key, w.user_id or 0)  # noqa: E731
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
    # The last event of each open application, looked up one application at a time (on the
    # index of its events) rather than grouped over the joined rows.
    last_event = (
        Event.objects.filter(application=OuterRef("pk"))
        .order_by("-created_at")
        .values("created_at")
    )
    return (
        Application.objects.filter(organization_id__in=orgs, category__in=OPEN)
        .annotate(last_event=Subquery(last_event[:1]))
        .filter(last_event__lt=cutoff)
        .select_related("service", "organization", "current_step")
        .order_by("last_event")
    )


def overdue_steps(organizations: Iterable[int]) -> QuerySet[Step]:
    """Open organization-owned steps past their due time, the oldest overdue first."""
    return (
        Step.objects.filter(
            organization_id__in=list(organizations),
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


class _Middle(Aggregate):
    """The lower and the upper middle value of each group (the same one twice for an odd
    count), as PostgreSQL's percentile_disc picks them: the value at rank ceil(f * n) for
    f = 0.5 and for f a hair above it (a hair that moves no rank below a billion rows)."""

    function = "percentile_disc"
    template = "%(function)s(ARRAY[0.5, 0.500000001]) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = Field()


def typical_step_times(
    service_ids: Iterable[int], since: datetime, *, states: Iterable[str] | None = None
) -> dict[tuple[int, str], timedelta]:
    """The median working time of each (service, step) over closed visits since `since`;
    only of the steps named in `states`, if given."""
    visits = Step.objects.filter(
        service_id__in=sorted(service_ids), left_at__gte=since, working_time__isnull=False
    ).order_by()
    if states is not None:
        visits = visits.filter(state__in=sorted(set(states)))
    if connection.vendor == "postgresql":
        # A year of a busy organization's visits is hundreds of thousands of rows: too many
        # to fetch for a median. PostgreSQL sorts them and returns the middle two, and the
        # median of those two is the median of them all, interpolated as below.
        middles = (
            visits.values("service_id", "state")
            .annotate(middle=_Middle("working_time"))
            .values_list("service_id", "state", "middle")
        )
        return {
            (service, state): timedelta(
                seconds=percentile([low.total_seconds(), high.total_seconds()], 50) or 0
            )
            for service, state, (low, high) in middles
        }
    values: dict[tuple[int, str], list[float]] = defaultdict(list)
    for service_id, state, spent in visits.values_list("service_id", "state", "working_time"):
        if spent is not None:
            values[(service_id, state)].append(spent.total_seconds())
    return {key: timedelta(seconds=percentile(seconds, 50) or 0) for key, seconds in values.items()}


def _usual(step: ProcessStep) -> timedelta:
    """A step's own timeline, for a step with no history yet."""
    if step.sla is None:
        return timedelta(0)
    if step.sla.unit == "d":
        return timedelta(days=step.sla.amount)
    return timedelta(hours=step.sla.amount)


def expected_completion(
    applications: Sequence[Application], *, now: datetime | None = None
) -> dict[int, datetime | None]:
    """For open applications: now plus the typical time of the steps left on the main path
    (the current one counted from when it was entered), on the organization's calendar."""
    now = now or timezone.now()
    result: dict[int, datetime | None] = {a.pk: None for a in applications}
    ahead: list[tuple[Application, Step, Process, list[str]]] = []  # the steps still to go
    for application in applications:
        step = application.current_step
        if step is None or application.is_closed:
            continue
        process = process_of(application.process)
        path = main_path(process, start=step.state) or []
        left: list[str] = []
        for state in path:
            if process.steps[state].terminal:
                break
            left.append(state)
        ahead.append((application, step, process, left))
    typical = typical_step_times(
        {application.service_id for application, *_ in ahead},
        now - 365 * DAY,
        states={state for *_, left in ahead for state in left},
    )
    calendars: dict[int, WorkCalendar] = {}
    for application, step, process, left in ahead:
        row = application.organization.calendar
        calendar = calendars.get(row.pk)
        if calendar is None:
            calendar = calendars[row.pk] = work_calendar(row)
        remaining = timedelta(0)
        for index, state in enumerate(left):
            usual = typical.get((application.service_id, state))
            if usual is None:
                usual = _usual(process.steps[state])
            if index == 0:
                spent = working_time_on(calendar)(step.entered_at, now)
                usual = max(usual - spent, timedelta(0))
            remaining += usual
        result[application.pk] = calendar.add_working_time(now, remaining)
    return result
