"""The staff side: the work queue, the head's dashboard with its drill-downs and exports, the
watchlist board, and the public figures of an organization. Figures come from
ocsc.insights.queries; who sees what from ocsc.accounts.access."""

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ocsc.accounts.access import insight_organizations, is_official
from ocsc.accounts.actions import must_set_up_second_factor
from ocsc.accounts.models import User
from ocsc.cases.access import access_application
from ocsc.cases.models import Application, Step
from ocsc.cases.queries import ApplicationFilter, visible_applications, work_queue
from ocsc.catalog.models import Organization, label
from ocsc.insights import queries as figures
from ocsc.insights.export import export
from ocsc.insights.models import Watch

PERIODS = (7, 30, 90, 365)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required ran first
    return user


def _gate(request: HttpRequest) -> HttpResponse | None:
    """Heads and administrators set up two-factor sign-in first, when the setting asks."""
    if must_set_up_second_factor(_user(request)):
        return redirect(reverse("portal:second_factor") + f"?next={request.path}")
    return None


def _period(request: HttpRequest) -> tuple[int, figures.Period]:
    days = int(request.GET.get("days", "30")) if request.GET.get("days", "").isdigit() else 30
    days = days if days in PERIODS else 30
    return days, figures.Period.last_days(days)


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """What waits on my roles in my area, overdue and soonest due first, with filters."""
    user = _user(request)
    if not is_official(user):
        raise Http404("No work queue: you hold no posting.")
    if (gate := _gate(request)) is not None:
        return gate
    now = timezone.now()
    steps: QuerySet[Step] = work_queue(user)
    chosen = {k: request.GET.get(k, "") for k in ("service", "step", "ward", "due")}
    if chosen["service"]:
        steps = steps.filter(application__service__code=chosen["service"])
    if chosen["step"]:
        steps = steps.filter(state=chosen["step"])
    if chosen["ward"]:
        steps = steps.filter(application__jurisdiction__code=chosen["ward"])
    if chosen["due"] == "overdue":
        steps = steps.filter(due_at__lt=now)
    elif chosen["due"] == "today":
        end = timezone.localtime(now).replace(hour=23, minute=59, second=59)
        steps = steps.filter(due_at__lte=end)
    rows = list(steps[:200])
    context = {"steps": rows, "now": now, "chosen": chosen, "options": _queue_options(user)}
    if request.headers.get("HX-Request"):
        return render(request, "portal/staff/queue.html#rows", context)
    return render(request, "portal/staff/queue.html", context)


def _queue_options(user: User) -> dict[str, list[tuple[str, str]]]:
    """The filter choices, from the whole queue (three small queries)."""
    base = work_queue(user).order_by()
    services = base.values_list("application__service__code", "application__service__name")
    wards = base.values_list("application__jurisdiction__code", "application__jurisdiction__name")
    return {
        "services": sorted({(code, label(name)) for code, name in services.distinct()}),
        "steps": sorted(
            {(s, s.replace("_", " ")) for s in base.values_list("state", flat=True).distinct()}
        ),
        "wards": sorted({(code, label(name)) for code, name in wards.distinct()}),
    }


def _organizations(request: HttpRequest, org: str | None) -> list[Organization]:
    allowed = insight_organizations(_user(request))
    if not allowed:
        raise Http404("No figures for you here.")
    chosen = Organization.objects.filter(pk__in=allowed).order_by("code")
    if org:
        chosen = chosen.filter(code=org)
        if not chosen.exists():
            raise Http404("No such organization.")
    return list(chosen)


@login_required
def dashboard(request: HttpRequest, org: str | None = None) -> HttpResponse:
    """The head's view of one organization, or, for a monitor, every organization side by
    side (choose one to see all its figures)."""
    organizations = _organizations(request, org)
    if (gate := _gate(request)) is not None:
        return gate
    days, period = _period(request)
    if org is None and len(organizations) > 1:
        # One set of queries for all the organizations (figures.totals), not one per
        # organization: the monitor's page stays fast whatever the number of organizations.
        summed = figures.totals([o.pk for o in organizations], period)
        rows = [
            {
                "organization": organization,
                "received": summed[organization.pk].received,
                "completed": summed[organization.pk].completed,
                "open": summed[organization.pk].open,
                "overdue": summed[organization.pk].overdue,
                "on_time": summed[organization.pk].on_time_share,
            }
            for organization in organizations
        ]
        return render(
            request,
            "portal/staff/province.html",
            {"rows": rows, "days": days, "periods": PERIODS},
        )
    ids = [o.pk for o in organizations]
    by_person, by_role = figures.people(ids, period)
    steps = figures.bottlenecks(ids, period)
    trend = figures.trend(ids, period)
    peak = max([max(r, c) for _, r, c in trend] or [1]) or 1
    worst = max([s.overdue for s in steps] or [1]) or 1
    return render(
        request,
        "portal/staff/dashboard.html",
        {
            "organizations": organizations,
            "org": organizations[0] if org else None,
            "days": days,
            "periods": PERIODS,
            "services": figures.headline(ids, period),
            "steps": steps,
            "worst": worst,
            "by_person": by_person[:30],
            "by_role": by_role,
            "stalled": list(figures.stalled(ids)[:20]),
            "overdue_steps": list(figures.overdue_steps(ids)[:20]),
            "trend": trend,
            "peak": peak,
            "now": timezone.now(),
        },
    )


DRILLS = ("received", "completed", "open", "overdue", "breached", "returned", "step")


@login_required
def drill(request: HttpRequest) -> HttpResponseBase:
    """The applications behind a figure, as a page, CSV or XLSX."""
    user = _user(request)
    allowed = insight_organizations(user)
    if not allowed:
        raise Http404("No figures for you here.")
    days, period = _period(request)
    queryset = visible_applications(
        user, ApplicationFilter(service=request.GET.get("service") or None)
    ).filter(organization_id__in=allowed)
    if request.GET.get("org"):
        queryset = queryset.filter(organization__code=request.GET["org"])
    what = request.GET.get("what", "open")
    state = request.GET.get("state", "")
    if what == "received":
        queryset = queryset.filter(submitted_at__gte=period.start, submitted_at__lt=period.end)
    elif what == "completed":
        queryset = queryset.filter(
            category="closed_ok", closed_at__gte=period.start, closed_at__lt=period.end
        )
    elif what == "overdue":
        queryset = queryset.filter(category="open", current_step__due_at__lt=timezone.now())
    elif what == "breached":
        queryset = queryset.filter(
            steps__state=state,
            steps__breached=True,
            steps__left_at__gte=period.start,
            steps__left_at__lt=period.end,
        ).distinct()
    else:
        queryset = queryset.filter(category__in=figures.OPEN)
    if state and what in ("open", "overdue"):
        queryset = queryset.filter(current_step__state=state)
    queryset = queryset.select_related("process", "organization__calendar")
    rows = list(queryset[:500])
    expected = figures.expected_completion(rows)
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "xlsx"):
        header = [
            "tracking_no",
            "service",
            "state",
            "category",
            "submitted_at",
            "step_due_at",
            "due_at",
            "expected_completion",
            "closed_at",
        ]
        data = [
            [
                a.tracking_no,
                label(a.service.name),
                a.state,
                a.category,
                timezone.localtime(a.submitted_at),
                timezone.localtime(a.current_step.due_at)
                if a.current_step and a.current_step.due_at
                else None,
                timezone.localtime(a.due_at) if a.due_at else None,
                timezone.localtime(expected[a.pk]) if expected.get(a.pk) else None,
                timezone.localtime(a.closed_at) if a.closed_at else None,
            ]
            for a in rows
        ]
        return export(f"applications-{what}", header, data, fmt)
    return render(
        request,
        "portal/staff/list.html",
        {
            "applications": rows,
            "expected": expected,
            "what": what,
            "state": state,
            "days": days,
            "now": timezone.now(),
            "query": request.GET.urlencode(),
        },
    )


@login_required
@require_POST
def watch(request: HttpRequest, tracking_no: str) -> HttpResponse:
    """Follow or stop following an application."""
    user = _user(request)
    application = access_application(user, tracking_no)
    if not is_official(user) and not user.is_monitor:
        raise Http404("Only staff keep a watchlist.")
    found = Watch.objects.filter(user=user, application=application)
    if found.exists():
        found.delete()
    else:
        Watch.objects.create(user=user, application=application)
    return redirect("portal:application", application.tracking_no)


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The watched applications, grouped by the step they are in now."""
    user = _user(request)
    watched = (
        Application.objects.filter(watches__user=user)
        .select_related("service", "current_step", "process", "organization__calendar")
        .order_by("current_step__state", "current_step__due_at")
    )
    columns: dict[str, list[Application]] = {}
    for application in watched:
        columns.setdefault(application.state, []).append(application)
    return render(request, "portal/staff/board.html", {"columns": columns, "now": timezone.now()})


def public_figures(request: HttpRequest, org: str) -> HttpResponse:
    """Aggregate figures anyone may read: no names, no tracking numbers."""
    organization = get_object_or_404(Organization, code=org)
    period = figures.Period.last_days(365)
    services = figures.headline([organization.pk], period)
    return render(
        request,
        "portal/staff/public.html",
        {"organization": organization, "services": services},
    )
