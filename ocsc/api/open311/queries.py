"""The reads behind Open311: which services and requests it shows, in which scope.

`jurisdiction_id` names an organization (its code). Without it, and when several
organizations offer complaints, a service is named `<organization>:<code>`, since the same
code (say `garbage-complaint`) is offered by many; a bare code is still accepted where only
one organization offers it."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from ocsc.cases.actions import collected_at_submission
from ocsc.cases.models import CLOSED, Application, Event
from ocsc.catalog.models import Jurisdiction, Organization, Service
from ocsc.catalog.process import process_of
from ocsc.workflow import CITIZEN

SEPARATOR = ":"


class Refused(Exception):
    """A request Open311 answers with errors: `[{code: status, description}]`."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = list(descriptions)


def _complaints() -> QuerySet[Service]:
    return Service.objects.filter(
        category=Service.Category.COMPLAINT, active=True, current_process__isnull=False
    )


def fileable(service: Service) -> bool:
    """Whether a request can be filed without documents (Open311 carries none)."""
    if service.current_process is None:
        return False
    process = process_of(service.current_process)
    return not any(r.get("required", True) for r in collected_at_submission(service, process))


@dataclass(frozen=True)
class Scope:
    """The organization a request is about (`jurisdiction_id`), or all of them; `qualified`
    when service codes carry their organization."""

    organization: Organization | None
    qualified: bool

    def code(self, organization: Organization, code: str) -> str:
        return f"{organization.code}{SEPARATOR}{code}" if self.qualified else code


def scope(jurisdiction_id: str | None) -> Scope:
    if jurisdiction_id:
        organization = Organization.objects.filter(code=jurisdiction_id).first()
        if organization is None:
            raise Refused(
                404,
                _("jurisdiction_id: no organization has the code '%(code)s'")
                % {"code": jurisdiction_id},
            )
        return Scope(organization, qualified=False)
    several = _complaints().values("organization").distinct()[:2].count() > 1
    return Scope(None, qualified=several)


def services(where: Scope) -> list[Service]:
    """The complaint services on offer in the scope that need no document, by code."""
    rows = _complaints().select_related("organization", "current_process")
    if where.organization is not None:
        rows = rows.filter(organization=where.organization)
    return [s for s in rows.order_by("code", "organization__code") if fileable(s)]


def service(where: Scope, service_code: str) -> Service:
    """The service a code names in the scope, or Refused (404 unknown, 400 ambiguous)."""
    organization_code, _sep, code = service_code.rpartition(SEPARATOR)
    rows = _complaints().select_related("organization", "current_process").filter(code=code)
    if where.organization is not None:
        if organization_code and organization_code != where.organization.code:
            raise Refused(
                400,
                _("service_code: %(code)s is not a service of jurisdiction_id %(org)s")
                % {"code": service_code, "org": where.organization.code},
            )
        rows = rows.filter(organization=where.organization)
    elif organization_code:
        rows = rows.filter(organization__code=organization_code)
    found = [s for s in rows.order_by("organization__code") if fileable(s)]
    if not found:
        raise Refused(404, _("service_code: no service '%(code)s'") % {"code": service_code})
    if len(found) > 1:
        raise Refused(
            400,
            _(
                "service_code: several organizations offer '%(code)s': give jurisdiction_id "
                "(one of %(orgs)s) or the service_code as organization:code"
            )
            % {"code": service_code, "orgs": ", ".join(s.organization.code for s in found)},
        )
    return found[0]


def served_area(organization: Organization) -> Jurisdiction | None:
    """Where a request to the organization is filed: the first area it serves (Open311's
    point or address does not name one of OCSC's areas)."""
    return organization.serves.order_by("path").first()


def requests(where: Scope) -> QuerySet[Application]:
    """Complaints in the scope, newest first, with what a request shows in one query:
    `status_note` (the latest public text of the organization's side) and `first_comment`
    (the applicant's first public comment: a description their form had no field for)."""
    notes = (
        Event.objects.filter(application=OuterRef("pk"), visibility=Event.Visibility.PUBLIC)
        .exclude(text="")
        .exclude(actor_role=CITIZEN)
        .order_by("-pk")
        .values("text")[:1]
    )
    first_comment = (
        Event.objects.filter(
            application=OuterRef("pk"),
            kind=Event.Kind.COMMENT,
            visibility=Event.Visibility.PUBLIC,
            actor=OuterRef("citizen"),
        )
        .order_by("pk")
        .values("text")[:1]
    )
    rows = Application.objects.filter(service__category=Service.Category.COMPLAINT)
    if where.organization is not None:
        rows = rows.filter(organization=where.organization)
    return (
        rows.select_related("service", "organization")
        .annotate(status_note=Subquery(notes), first_comment=Subquery(first_comment))
        .order_by("-submitted_at", "-pk")
    )


@dataclass(frozen=True)
class RequestFilter:
    ids: list[str]
    codes: list[str]
    start: datetime
    end: datetime
    statuses: set[str]


def filtered(rows: QuerySet[Application], wanted: RequestFilter) -> QuerySet[Application]:
    """The spec's filters: ids override the rest; otherwise codes, dates and status."""
    if wanted.ids:
        return rows.filter(tracking_no__in=wanted.ids)
    rows = rows.filter(submitted_at__gte=wanted.start, submitted_at__lte=wanted.end)
    if wanted.codes:
        condition = Q(pk__in=[])
        for code in wanted.codes:
            organization_code, _sep, bare = code.rpartition(SEPARATOR)
            here = Q(service__code=bare)
            if organization_code:
                here &= Q(organization__code=organization_code)
            condition |= here
        rows = rows.filter(condition)
    if wanted.statuses == {"open"}:
        rows = rows.exclude(category__in=CLOSED)
    elif wanted.statuses == {"closed"}:
        rows = rows.filter(category__in=CLOSED)
    return rows
