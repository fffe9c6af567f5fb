"""The process page for organization administrators: plain function views that parse the
request, call one action or query, and render. Who may do what is in ocsc.accounts.access;
checking, dry runs and publishing are in ocsc.catalog.actions."""

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from ocsc.accounts.access import administers, may_view_processes, process_organizations_filter
from ocsc.accounts.models import User
from ocsc.catalog.actions import (
    MAX_DRY_RUN_ACTIONS,
    DryRun,
    ProcessChanged,
    ProcessInvalid,
    check_process,
    dry_run,
    publish_process,
)
from ocsc.catalog.loader import Located
from ocsc.catalog.models import Organization, ProcessVersion, Role, Service, label
from ocsc.catalog.process import process_of
from ocsc.workflow import CITIZEN, Process, main_path, mermaid

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required ran first
    return user


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    """The organizations whose processes the user may see, and their services."""
    services = Service.objects.select_related("current_process").order_by("-active", "code")
    organizations = list(
        Organization.objects.filter(process_organizations_filter(_user(request)))
        .select_related("kind")
        .prefetch_related(Prefetch("services", queryset=services))
        .order_by("code")
    )
    if not organizations:
        raise Http404("Nothing to manage here.")
    return render(request, "catalog/manage.html", {"organizations": organizations})


def _service(
    request: HttpRequest, org: str, code: str, *, write: bool = False
) -> tuple[Service, bool]:
    """The service if the user may see its process (else 404, as for a missing one), and
    whether they may change it; with `write`, PermissionDenied (403) for those who only read."""
    service = (
        Service.objects.select_related(
            "organization__kind", "organization__calendar", "current_process"
        )
        .filter(organization__code=org, code=code)
        .first()
    )
    user = _user(request)
    if service is None:
        raise Http404("No such service.")
    may_edit = administers(user, organization_id=service.organization_id)
    if not may_edit and not may_view_processes(user, organization_id=service.organization_id):
        raise Http404("No such service.")
    if write and not may_edit:
        raise PermissionDenied("Monitors read processes; they do not change them.")
    return service, may_edit


def versions_in_use(service: Service) -> QuerySet[ProcessVersion]:
    """The service's versions, newest first, each with its applications in flight and in all,
    in one query whatever their number."""
    return (
        ProcessVersion.objects.filter(service=service)
        .annotate(
            in_flight=Count("applications", filter=Q(applications__closed_at__isnull=True)),
            total=Count("applications"),
        )
        .order_by("-number")
    )


def spec_yaml(spec: dict[str, Any]) -> str:
    """A stored spec as YAML in the author's order, short maps and lists on one line."""
    return yaml.safe_dump(
        spec, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
    )


def _flow(
    process: Process, roles: dict[str, dict[str, str]], requirements: dict[str, str]
) -> list[dict[str, Any]]:
    """The steps in the spec's order, as the page lists them."""
    flow = []
    for code, step in process.steps.items():
        flow.append(
            {
                "code": code,
                "name": label(step.name) if step.name else "",
                "start": code == process.start,
                "step": step,
                "citizen": step.owner == CITIZEN,
                "owner": label(roles.get(step.owner or "")) or (step.owner or ""),
                "duty": label(step.duty) if step.duty else "",
                "requires": [requirements.get(r, r) for r in step.requires],
                "actions": [
                    {
                        "code": name,
                        "label": label(action.label) if action.label else "",
                        "to": action.to,
                        "to_name": label(process.steps[action.to].name)
                        if process.steps[action.to].name
                        else action.to,
                        "system": action.by == "system",
                        "comment": action.comment == "required",
                    }
                    for name, action in step.actions.items()
                ],
            }
        )
    return flow


def _main_actions(process: Process) -> list[str]:
    """The actions along the main path (start to approval): the dry run's suggestion."""
    path = main_path(process) or []
    chosen = []
    for here, there in zip(path, path[1:], strict=False):
        chosen.append(
            next(name for name, a in process.steps[here].actions.items() if a.to == there)
        )
    return chosen


def _page(
    request: HttpRequest,
    service: Service,
    *,
    may_edit: bool,
    editor: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the process page shows; `editor` holds what the user sent, kept as sent."""
    current = service.current_process
    shown = current
    wanted = request.GET.get("version", "")
    if wanted:
        if not wanted.isdigit() or len(wanted) > 9:
            raise Http404("No such version.")
        shown = ProcessVersion.objects.filter(service=service, number=int(wanted)).first()
        if shown is None:
            raise Http404("No such version.")
    organization = service.organization
    roles = dict(Role.objects.filter(kind_id=organization.kind_id).values_list("code", "name"))
    requirements = {r["code"]: label(r.get("name")) or r["code"] for r in service.requirements}
    context: dict[str, Any] = {
        "service": service,
        "organization": organization,
        "current": current,
        "shown": shown,
        "versions": versions_in_use(service),
        "may_edit": may_edit,
        # Said only of the version in use: a link cannot make the page claim anything else.
        "published": current is not None and request.GET.get("published") == str(current.number),
    }
    if shown is not None:
        process = process_of(shown)
        context.update(
            process=process,
            flow=_flow(process, roles, requirements),
            mermaid=mermaid(process, (get_language() or "en")[:2]),
            yaml=spec_yaml(shown.spec),
        )
    zone = ZoneInfo(organization.calendar.timezone)
    suggested = _main_actions(context["process"]) if shown is not None else []
    context["editor"] = {
        "text": context.get("yaml", ""),
        "based_on": current.number if current else 0,
        "start": timezone.localtime(timezone.now(), zone).strftime(DATETIME_LOCAL),
        "actions": ", ".join(suggested),
        **(editor or {}),
    }
    context["zone"] = organization.calendar.timezone
    context["next_number"] = (current.number if current else 0) + 1
    return context


@login_required
def process_page(request: HttpRequest, org: str, code: str) -> HttpResponse:
    service, may_edit = _service(request, org, code)
    return render(request, "catalog/process.html", _page(request, service, may_edit=may_edit))


def _editor_input(request: HttpRequest) -> dict[str, Any]:
    based_on = request.POST.get("based_on", "")
    return {
        "text": request.POST.get("spec", ""),
        "based_on": int(based_on) if based_on.isdigit() else None,
        "start": request.POST.get("start", "").strip(),
        "actions": request.POST.get("actions", "").strip(),
    }


def _respond(
    request: HttpRequest,
    service: Service,
    result: dict[str, Any],
    status: int,
    *,
    rebase: bool = False,
) -> HttpResponse:
    """The result alone for htmx; otherwise the whole page, the editor keeping the text (and,
    with `rebase`, now based on the current version)."""
    if _is_htmx(request):
        return render(request, "catalog/process.html#result", result, status=status)
    editor = _editor_input(request)
    if rebase or editor["based_on"] is None:
        del editor["based_on"]
    context = _page(request, service, may_edit=True, editor=editor)
    context.update(result)
    return render(request, "catalog/process.html", context, status=status)


def _problems(problems: list[Located]) -> dict[str, Any]:
    return {
        "problems": problems,
        "errors": sum(1 for p in problems if p.is_error),
        "warnings": sum(1 for p in problems if not p.is_error),
    }


@login_required
@require_POST
def check(request: HttpRequest, org: str, code: str) -> HttpResponse:
    """Check the text: every problem with its line and path; nothing is written."""
    service, _ = _service(request, org, code, write=True)
    draft = check_process(service, request.POST.get("spec", ""))
    current = service.current_process
    result = {
        "checked": True,
        "valid": draft.process is not None,
        "next_number": (current.number if current else 0) + 1,
        **_problems(draft.problems),
    }
    return _respond(request, service, result, 200 if draft.process is not None else 422)


def _start(value: str, zone: ZoneInfo) -> datetime | None:
    """A `datetime-local` value, on the organization's clock; empty means now."""
    if not value:
        return timezone.now()
    try:
        naive = datetime.strptime(value[:16], DATETIME_LOCAL)  # noqa: DTZ007 - made aware below
    except ValueError:
        return None
    return timezone.make_aware(naive, zone)


@login_required
@require_POST
def dry_run_view(request: HttpRequest, org: str, code: str) -> HttpResponse:
    """Walk an imaginary application through the chosen actions; nothing is written."""
    service, _ = _service(request, org, code, write=True)
    zone = ZoneInfo(service.organization.calendar.timezone)
    start = _start(request.POST.get("start", "").strip(), zone)
    if start is None:
        return _respond(request, service, {"bad_start": True}, 422)
    chosen = [a for a in re.split(r"[\s,;>→]+", request.POST.get("actions", "")) if a]
    try:
        run: DryRun = dry_run(
            service,
            text=request.POST.get("spec", ""),
            start=start,
            actions=chosen[:MAX_DRY_RUN_ACTIONS],
        )
    except ProcessInvalid as exc:
        return _respond(request, service, _problems(exc.problems), 422)
    roles = Role.objects.filter(kind_id=service.organization.kind_id).values_list("code", "name")
    result = {"run": run, "roles": {code_: label(name) for code_, name in roles}}
    return _respond(request, service, result, 422 if run.stopped else 200)


@login_required
@require_POST
def publish(request: HttpRequest, org: str, code: str) -> HttpResponse:
    """Publish the text as the next version; applications in flight keep theirs."""
    service, _ = _service(request, org, code, write=True)
    editor = _editor_input(request)
    try:
        version = publish_process(
            service, actor=_user(request), text=editor["text"], based_on=editor["based_on"]
        )
    except ProcessInvalid as exc:
        return _respond(request, service, {"publish_refused": True, **_problems(exc.problems)}, 422)
    except ProcessChanged as exc:
        service.refresh_from_db()
        return _respond(request, service, {"conflict": str(exc)}, 409, rebase=True)
    url = reverse("catalog:process", args=[service.organization.code, service.code])
    return redirect(f"{url}?published={version.number}")
