"""The public catalog: areas, organizations, services and how each service's process runs."""

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from ocsc.api.auth import ClientKey
from ocsc.api.present import default_label, role_name, step_name
from ocsc.api.schemas import (
    ErrorOut,
    JurisdictionOut,
    OrganizationOut,
    ServiceDetailOut,
    ServiceFilterIn,
    ServiceOut,
)
from ocsc.cases.actions import collected_at_submission
from ocsc.cases.formdata import InvalidInput
from ocsc.catalog.models import Jurisdiction, Organization, Role, Service
from ocsc.catalog.process import process_of
from ocsc.workflow import LANGUAGES, main_path

# Open to all; a third party sends its X-API-Key to be counted against its rate limit.
router = Router(tags=["catalog"], auth=ClientKey())


@router.get("/jurisdictions", response=list[JurisdictionOut], summary="The area tree, flat")
def jurisdictions(request: HttpRequest) -> list[dict[str, Any]]:
    rows = Jurisdiction.objects.select_related("parent").order_by("path")
    return [
        {
            "code": j.code,
            "kind": j.kind,
            "name": j.name,
            "parent": j.parent.code if j.parent else None,
        }
        for j in rows
    ]


@router.get("/organizations", response=list[OrganizationOut], summary="Service providers")
def organizations(request: HttpRequest) -> list[dict[str, Any]]:
    rows = Organization.objects.select_related("kind").prefetch_related("serves").order_by("code")
    return [
        {
            "code": o.code,
            "name": o.name,
            "kind": o.kind.code,
            "prefix": o.prefix,
            "serves": sorted(j.code for j in o.serves.all()),
        }
        for o in rows
    ]


def _fee(service: Service) -> dict[str, str] | None:
    if service.fee_amount is None:
        return None
    return {"amount": str(service.fee_amount), "currency": service.fee_currency}


def _service(service: Service) -> dict[str, Any]:
    return {
        "organization": {"code": service.organization.code, "name": service.organization.name},
        "code": service.code,
        "category": service.category,
        "name": service.name,
        "description": service.description or {},
        "fee": _fee(service),
    }


def _offered() -> QuerySet[Service]:
    return Service.objects.filter(active=True, current_process__isnull=False).select_related(
        "organization", "current_process"
    )


@router.get(
    "/services",
    response={200: list[ServiceOut], 422: ErrorOut},
    summary="Services on offer, filtered by organization, area, category or words",
)
def services(request: HttpRequest, filters: Query[ServiceFilterIn]) -> list[dict[str, Any]]:
    rows = _offered()
    if filters.organization:
        rows = rows.filter(organization__code=filters.organization)
    if filters.jurisdiction:
        place = Jurisdiction.objects.filter(code=filters.jurisdiction).first()
        if place is None:
            raise InvalidInput(
                {
                    "jurisdiction": _("no area has the code '%(code)s'")
                    % {"code": filters.jurisdiction}
                }
            )
        rows = rows.filter(organization__serves__path__in=place.paths_up).distinct()
    if filters.category:
        rows = rows.filter(category=filters.category)
    if filters.q and filters.q.strip():
        words = Q()
        for lang in LANGUAGES:
            words |= Q(**{f"name__{lang}__icontains": filters.q.strip()})
        rows = rows.filter(words)
    return [_service(s) for s in rows.order_by("organization__code", "code")]


@router.get(
    "/organizations/{org}/services/{code}",
    response={200: ServiceDetailOut, 404: ErrorOut},
    summary="One service: form fields, requirements, fee, timelines and the steps",
)
def service_detail(request: HttpRequest, org: str, code: str) -> dict[str, Any]:
    service = _offered().filter(organization__code=org, code=code).first()
    if service is None or service.current_process is None:
        raise Http404(_("%(org)s offers no service '%(code)s'.") % {"org": org, "code": code})
    process = process_of(service.current_process)
    roles = {r.code: r.name for r in Role.objects.filter(kind_id=service.organization.kind_id)}
    asked_at = {code: state for state, step in process.steps.items() for code in step.requires}
    at_submission = {r["code"] for r in collected_at_submission(service, process)}
    return {
        **_service(service),
        "fields": service.fields,
        "requirements": [
            {
                **r,
                "collected_at": "submission" if r["code"] in at_submission else "step",
                "step": None if r["code"] in at_submission else asked_at.get(r["code"]),
            }
            for r in service.requirements
        ],
        "timeline": str(process.sla) if process.sla else None,
        "start": process.start,
        "main_path": main_path(process) or [],
        "steps": [
            {
                "state": state,
                "name": step_name(process, state),
                "owner": {"code": step.owner, "name": role_name(step.owner, roles)}
                if step.owner
                else None,
                "duty": step.duty,
                "timeline": str(step.sla) if step.sla else None,
                "requires": list(step.requires),
                "fee": step.fee,
                "outcome": step.outcome,
                "actions": [
                    {
                        "action": name,
                        "label": action.label or default_label(name),
                        "to": action.to,
                        "comment_required": action.comment == "required",
                        "by": action.by,
                    }
                    for name, action in step.actions.items()
                ],
            }
            for state, step in process.steps.items()
        ],
    }
