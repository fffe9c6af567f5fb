"""Reads of applications: the citizen's, an official's queue, an organization's."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from ocsc.accounts.access import is_reader, scopes, visible_filter
from ocsc.accounts.models import User
from ocsc.cases.access import chart_of, roles_of
from ocsc.cases.models import CLOSED, Application, Attachment, Event, Step
from ocsc.catalog.models import Jurisdiction, Service
from ocsc.catalog.process import process_of
from ocsc.compiled import Compiled
from ocsc.workflow import allowed_actions


def _listed(queryset: QuerySet[Application]) -> QuerySet[Application]:
    return queryset.select_related(
        "service", "organization", "jurisdiction", "current_step__assignee"
    ).order_by("-submitted_at", "-pk")


def citizen_applications(user: User) -> QuerySet[Application]:
    return _listed(Application.objects.filter(citizen=user))


# What a list item shows (api.schemas.ApplicationItemOut) and nothing more: a citizen's
# list does not read the applications' data, the services' forms, requirements and
# descriptions, or the organizations' and areas' other columns, whose JSON it would decode
# for every row (a page of ten read in 0.6 ms of CPU instead of 0.9).
ITEM_FIELDS = (
    "tracking_no",
    "state",
    "category",
    "outcome",
    "channel",
    "submitted_at",
    "closed_at",
    "due_at",
    "paused_at",
    "process__spec_json",
    "service__code",
    "service__name",
    "organization__code",
    "organization__name",
    "jurisdiction__code",
    "jurisdiction__name",
    "current_step__state",
    "current_step__owner_role",
    "current_step__entered_at",
    "current_step__due_at",
    "current_step__assignee__name",
    "current_step__assignee__phone",
)


def _own(citizen_id: int) -> QuerySet[Application]:
    return (
        _listed(Application.objects.filter(citizen_id=citizen_id))
        .select_related("process")
        .only(*ITEM_FIELDS)
    )


OWN = Compiled(_own)


@dataclass(frozen=True)
class OwnApplications:
    """A person's own applications, newest first, with their processes: the list a citizen's
    app asks for most, read on SQL compiled once (`OWN.page`, `OWN.count`)."""

    citizen_id: int

    def page(self, offset: int, limit: int) -> list[Application]:
        return OWN.page(offset, limit, citizen_id=self.citizen_id)

    def count(self) -> int:
        return OWN.count(citizen_id=self.citizen_id)


@dataclass(frozen=True)
class ApplicationFilter:
    organization: str | None = None
    service: str | None = None
    state: str | None = None
    category: str | None = None
    overdue: bool | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    mine: bool = False  # only the caller's own applications


def own_only(user: User, filters: ApplicationFilter) -> bool:
    """Whether the list asked for is simply the user's own applications: no filter but
    `mine`, and either `mine` or nothing else visible to them (not a monitor, no posting)."""
    if filters != ApplicationFilter(mine=filters.mine):
        return False
    return filters.mine or not (is_reader(user) or scopes(user))


def visible_applications(
    user: User, filters: ApplicationFilter | None = None
) -> QuerySet[Application]:
    """What the user may see: their own, their organizations' (within their areas), or all
    for monitors; narrowed by the filters."""
    f = filters or ApplicationFilter()
    queryset = Application.objects.filter(Q(citizen=user) if f.mine else visible_filter(user))
    if f.organization:
        queryset = queryset.filter(organization__code=f.organization)
    if f.service:
        queryset = queryset.filter(service__code=f.service)
    if f.state:
        queryset = queryset.filter(state=f.state)
    if f.category:
        queryset = queryset.filter(category=f.category)
    if f.overdue is not None:
        late = Q(current_step__due_at__lt=timezone.now()) & ~Q(category__in=CLOSED)
        queryset = queryset.filter(late if f.overdue else ~late)
    if f.submitted_from:
        queryset = queryset.filter(submitted_at__date__gte=f.submitted_from)
    if f.submitted_to:
        queryset = queryset.filter(submitted_at__date__lte=f.submitted_to)
    return _listed(queryset)


def work_queue(user: User) -> QuerySet[Step]:
    """Open steps owned by the user's roles, in their postings' areas, assigned to them or to
    nobody; overdue and soonest due first."""
    condition = Q(pk__in=[])
    for scope in scopes(user):
        here = Q(application__organization_id=scope.organization_id, owner_role=scope.role)
        if scope.area_path is not None:
            here &= Q(application__jurisdiction__path__startswith=scope.area_path)
        condition |= here
    return (
        Step.objects.filter(condition, left_at__isnull=True)
        .filter(Q(assignee=user) | Q(assignee__isnull=True))
        .select_related(
            "application__service",
            "application__organization",
            "application__jurisdiction",
            "assignee",
        )
        .order_by("due_at", "entered_at", "pk")
    )


def timeline(
    application: Application, *, internal: bool, after: int | None = None
) -> QuerySet[Event]:
    """The application's events in order; internal notes only for those who may see them."""
    events = application.events.select_related("actor").prefetch_related("attachments")
    if not internal:
        events = events.filter(visibility=Event.Visibility.PUBLIC)
    if after is not None:
        events = events.filter(pk__gt=after)
    return events.order_by("pk")


def route_service(code: str, jurisdiction: Jurisdiction) -> Service | None:
    """The active service with this code offered by an organization serving the place: the
    one whose served area is the nearest ancestor of it."""
    candidates = (
        Service.objects.filter(
            code=code, active=True, organization__serves__path__in=jurisdiction.paths_up
        )
        .select_related("organization", "current_process")
        .values_list("pk", "organization__serves__path")
    )
    best = max(candidates, key=lambda row: len(row[1]), default=None)
    if best is None:
        return None
    return Service.objects.select_related("organization__kind").get(pk=best[0])


@dataclass(frozen=True)
class ActionOption:
    """An action the caller may take now, and what it needs."""

    action: str
    label: dict[str, str] | None
    to: str
    comment_required: bool
    documents_required: tuple[str, ...]  # codes the current step still lacks


def actions_for(
    user: User, application: Application, *, attachments: Sequence[Attachment] | None = None
) -> list[ActionOption]:
    """What the user may do with the application's current step (none when closed).
    `attachments`: all of the application's, with their `event`, when the caller has them."""
    step = application.current_step
    if step is None or application.is_closed:
        return []
    roles = roles_of(user, application)
    if not roles:
        return []
    process = process_of(application.process)
    spec = process.steps[step.state]
    if attachments is None:
        attached = set(
            Attachment.objects.filter(application=application, event__step=step).values_list(
                "requirement", flat=True
            )
        )
    else:
        attached = {
            a.requirement for a in attachments if a.event is not None and a.event.step_id == step.pk
        }
    missing = tuple(code for code in spec.requires if code not in attached)
    return [
        ActionOption(
            action=name,
            label=spec.actions[name].label,
            to=spec.actions[name].to,
            comment_required=spec.actions[name].comment == "required",
            documents_required=missing,
        )
        for name in allowed_actions(process, step.state, roles=roles, chart=chart_of(application))
    ]
