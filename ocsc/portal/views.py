"""The citizen side of the portal (and the installable app): plain function views that parse,
call one action or query, and render. Rules live in cases/accounts, never here."""

from typing import Any
from uuid import UUID

from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ocsc.accounts import totp
from ocsc.accounts.actions import (
    SignInRefused,
    check_second_factor,
    must_set_up_second_factor,
    needs_second_factor,
    password_sign_in,
    request_code,
    start_second_factor,
    verify_code,
)
from ocsc.accounts.http import client_ip
from ocsc.accounts.identity import normalize_phone
from ocsc.accounts.models import Language, Posting, User
from ocsc.cases import actions
from ocsc.cases.access import (
    NotAllowed,
    access_application,
    may_assign,
    may_withdraw,
    sees_internal,
)
from ocsc.cases.actions import ApplicationChanged, collected_at_submission
from ocsc.cases.files import FileRefused
from ocsc.cases.formdata import InvalidInput
from ocsc.cases.models import Application, Attachment, Channel, Event
from ocsc.cases.queries import actions_for, citizen_applications, timeline
from ocsc.catalog.models import Jurisdiction, Organization, Role, Service, label
from ocsc.catalog.process import process_of, work_calendar
from ocsc.catalog.queries import organizations_with_services
from ocsc.insights.models import Watch
from ocsc.notify.actions import mark_read
from ocsc.notify.queries import inbox
from ocsc.portal.labels import action_label
from ocsc.workflow import CITIZEN, ActionRefused


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required ran first
    return user


def _client_ip(request: HttpRequest) -> str | None:
    return client_ip(request)


# Catalog --------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    area = request.GET.get("area", "")
    services = Service.objects.filter(active=True).select_related("organization", "current_process")
    if q:
        services = services.filter(Q(name__icontains=q) | Q(description__icontains=q))
    if area:
        place = Jurisdiction.objects.filter(code=area).first()
        if place is not None:
            below = Q(organization__serves__path__startswith=place.path)
            services = services.filter(below | Q(organization__serves__path__in=place.paths_up))
    mine = []
    if request.user.is_authenticated:
        mine = list(
            citizen_applications(_user(request)).exclude(
                category__in=["closed_ok", "closed_rejected", "closed_withdrawn"]
            )[:5]
        )
    districts = Jurisdiction.objects.filter(kind="district").prefetch_related("children")
    searching = bool(q or area)
    return render(
        request,
        "portal/home.html",
        {
            "q": q,
            "area": area,
            "searching": searching,
            "results": services.order_by("organization__code", "code").distinct()[:50]
            if searching
            else [],
            "organizations": [] if searching else organizations_with_services(),
            "districts": districts,
            "mine": mine,
        },
    )


def _role_names(organization: Organization) -> dict[str, dict[str, str]]:
    return dict(Role.objects.filter(kind_id=organization.kind_id).values_list("code", "name"))


def service_page(request: HttpRequest, org: str, code: str) -> HttpResponse:
    service = get_object_or_404(
        Service.objects.select_related("organization__kind", "current_process"),
        organization__code=org,
        code=code,
        active=True,
    )
    if service.current_process is None:
        raise Http404("This service has no process yet.")
    process = process_of(service.current_process)
    roles = _role_names(service.organization)
    later = {c for step in process.steps.values() for c in step.requires}
    steps = [
        {
            "code": code_,
            "name": label(step.name) if step.name else code_.replace("_", " ").capitalize(),
            "owner": _("You (the applicant)")
            if step.owner == CITIZEN
            else label(roles.get(step.owner or "", {})),
            "duty": label(step.duty) if step.duty else "",
            "sla": step.sla,
            "fee": step.fee,
        }
        for code_, step in process.steps.items()
        if not step.terminal
    ]
    return render(
        request,
        "portal/service.html",
        {
            "service": service,
            "process": process,
            "steps": steps,
            "at_submission": [r for r in service.requirements if r["code"] not in later],
            "later": [r for r in service.requirements if r["code"] in later],
        },
    )


# Signing in -----------------------------------------------------------------------------


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("portal:home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return reverse("portal:home")
    return target


def sign_in(request: HttpRequest) -> HttpResponse:
    """Phone → SMS code → signed in; officials may use their password instead."""
    context: dict[str, Any] = {"next": _next(request), "phone": request.POST.get("phone", "")}
    if request.method == "POST":
        stage = request.POST.get("stage")
        try:
            phone = normalize_phone(request.POST.get("phone", ""))
        except ValidationError as exc:
            context["error"] = exc.messages[0]
            return render(request, "portal/sign_in.html", context, status=422)
        context["phone"] = phone
        try:
            if stage == "phone":
                request_code(phone, client_ip=_client_ip(request))
                context["code_sent"] = True
            elif stage == "code":
                user = verify_code(phone, request.POST.get("code", ""))
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return _remember_language(request, redirect(context["next"]), user)
            elif stage == "password":
                context["password"] = True
                found = password_sign_in(
                    phone, request.POST.get("password", ""), client_ip=_client_ip(request)
                )
                if needs_second_factor(found):
                    request.session["pending_user"] = found.pk
                    context.update(password=False, second_factor=True)
                    return render(request, "portal/sign_in.html", context)
                return _signed_in(request, found, context["next"])
            elif stage == "totp":
                context["second_factor"] = True
                pending = User.objects.filter(pk=request.session.get("pending_user", 0)).first()
                if pending is None or pending.phone != phone:
                    raise SignInRefused("code_expired", _("Sign in with your password again."))
                check_second_factor(pending, request.POST.get("code", ""))
                del request.session["pending_user"]
                return _signed_in(request, pending, context["next"])
        except SignInRefused as exc:
            context["error"] = str(exc)
            context["code_sent"] = stage == "code"
            context["password"] = stage == "password"
            context["second_factor"] = stage == "totp"
            status = 429 if exc.code == "too_many_codes" else 422
            return render(request, "portal/sign_in.html", context, status=status)
    context["password"] = request.GET.get("with") == "password"
    return render(request, "portal/sign_in.html", context)


def _signed_in(request: HttpRequest, user: User, target: str) -> HttpResponse:
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if must_set_up_second_factor(user):
        target = reverse("portal:second_factor") + f"?next={target}"
    return _remember_language(request, redirect(target), user)


@login_required
def second_factor(request: HttpRequest) -> HttpResponse:
    """Register an authenticator app: show its secret, then confirm with a first code."""
    user = _user(request)
    context: dict[str, Any] = {"next": _next(request), "done": needs_second_factor(user)}
    if request.method == "POST":
        try:
            check_second_factor(user, request.POST.get("code", ""))
        except SignInRefused as exc:
            context["error"] = str(exc)
        else:
            return redirect(context["next"])
    if not context["done"]:
        device = start_second_factor(user)
        context["secret"] = device.secret
        context["uri"] = totp.provisioning_uri(device.secret, user.phone)
    return render(
        request, "portal/second_factor.html", context, status=422 if "error" in context else 200
    )


def _remember_language(request: HttpRequest, response: HttpResponse, user: Any) -> HttpResponse:
    from django.conf import settings

    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, max_age=365 * 24 * 3600)
    return response


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:home")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the language; remembered in a cookie and, when signed in, on the account."""
    from django.conf import settings

    code = request.POST.get("language", "")
    response = redirect(_next(request))
    if code in Language.values:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, max_age=365 * 24 * 3600)
        if request.user.is_authenticated:
            User.objects.filter(pk=request.user.pk).update(language=code)
    return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """Name, CNIC, language, e-mail, and how the person is told of news (notify's choices)."""
    from django.conf import settings
    from django.core.validators import validate_email

    from ocsc.notify.actions import set_channels
    from ocsc.notify.queries import channel_table, push_enabled, topics_for

    user = _user(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        name = request.POST.get("name", "").strip()[:150]
        cnic = request.POST.get("cnic", "").strip()
        language = request.POST.get("language", user.language)
        email = request.POST.get("email", user.email).strip()
        if cnic:
            from ocsc.accounts.identity import normalize_cnic

            try:
                cnic = normalize_cnic(cnic)
            except ValidationError as exc:
                errors["cnic"] = exc.messages[0]
        if language not in Language.values:
            errors["language"] = _("Choose English, Urdu or Pashto.")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors["email"] = _("Write an e-mail address such as name@example.com.")
        if not errors:
            user.name, user.cnic, user.language, user.email = name, cnic, language, email
            user.save(update_fields=["name", "cnic", "language", "email"])
            if "channels" in request.POST:  # the form's table of choices was sent
                chosen = {t: request.POST.getlist(f"channels.{t}") for t in topics_for(user)}
                set_channels(user, chosen)
            return _remember_language(request, redirect("portal:profile"), user)
    return render(
        request,
        "portal/profile.html",
        {
            "errors": errors,
            "languages": Language.choices,
            "topics": channel_table(user),
            "push_key": settings.VAPID_PUBLIC_KEY if push_enabled() else "",
        },
        status=422 if errors else 200,
    )


# Applying -------------------------------------------------------------------------------


@login_required
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    """One document, uploaded as soon as it is chosen (htmx); returns the field's fragment."""
    code = request.POST.get("requirement", "")
    file = request.FILES.get(f"file.{code}") or request.FILES.get("file")
    context: dict[str, Any] = {"code": code}
    if file is None:
        context["error"] = _("Choose a file.")
    else:
        try:
            attachment = actions.upload_file(actor=_user(request), file=file)
            context["upload"] = attachment
        except FileRefused as exc:
            context["error"] = str(exc)
    return render(
        request, "portal/apply.html#upload", context, status=422 if "error" in context else 200
    )


def _apply_input(request: HttpRequest, service: Service) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in service.fields:
        key = field["key"]
        if field["type"] == "multi_choice":
            data[key] = request.POST.getlist(f"data.{key}")
        elif field["type"] == "location":
            data[key] = {
                k: request.POST.get(f"data.{key}.{k}", "").strip() or None
                for k in ("lat", "lng", "address")
            }
            if not any(data[key].values()):
                data[key] = None
        else:
            data[key] = request.POST.get(f"data.{key}", "")
    return data


@login_required
def apply(request: HttpRequest, org: str, code: str) -> HttpResponse:
    """The form from the service's fields, documents per requirement, a review, then submit."""
    service = get_object_or_404(
        Service.objects.select_related("organization", "current_process"),
        organization__code=org,
        code=code,
        active=True,
    )
    if service.current_process is None:
        raise Http404("This service has no process yet.")
    user = _user(request)
    requirements = collected_at_submission(service, process_of(service.current_process))
    served = [j for root in service.organization.serves.all() for j in _subtree(root)]
    context: dict[str, Any] = {
        "service": service,
        "requirements": requirements,
        "places": served,
        "values": {},
        "errors": {},
        "documents": {},
    }
    if request.method != "POST":
        return render(request, "portal/apply.html", context)

    data = _apply_input(request, service)
    documents: dict[str, str] = {}
    errors: dict[str, str] = {}
    for requirement in requirements:
        code_ = requirement["code"]
        file = request.FILES.get(f"file.{code_}")
        if file is not None:  # sent without JavaScript: keep it as an upload now
            try:
                documents[code_] = str(actions.upload_file(actor=user, file=file).uuid)
            except FileRefused as exc:
                errors[f"documents.{code_}"] = str(exc)
        elif request.POST.get(f"documents.{code_}"):
            documents[code_] = request.POST[f"documents.{code_}"]
    uploads = {
        str(a.uuid): a
        for a in Attachment.objects.filter(
            uuid__in=[_uuid(v) for v in documents.values() if _uuid(v)], uploaded_by=user
        )
    }
    jurisdiction = Jurisdiction.objects.filter(code=request.POST.get("jurisdiction", "")).first()
    context.update(values=data, documents=uploads_by_code(documents, uploads))
    context["jurisdiction"] = jurisdiction
    if jurisdiction is None:
        errors["jurisdiction"] = _("Choose where the service is needed.")
    channel = Channel.MOBILE if request.POST.get("installed") == "1" else Channel.WEB
    stage = request.POST.get("stage", "review")
    if stage == "edit":
        return render(request, "portal/apply.html", context)
    try:
        if errors:
            raise InvalidInput(errors)
        if stage == "submit":
            assert jurisdiction is not None  # noqa: S101 - checked above
            application = actions.submit_application(
                citizen=user,
                service=service,
                jurisdiction=jurisdiction,
                data={k: v for k, v in data.items() if v not in (None, "", [])},
                documents=documents,
                channel=channel,
            )
            return redirect(
                reverse("portal:application", args=[application.tracking_no]) + "?submitted=1"
            )
        _check_before_review(service, requirements, data, documents)
    except InvalidInput as exc:
        context["errors"] = {**errors, **exc.errors}
        return render(request, "portal/apply.html", context, status=422)
    context["review"] = True
    return render(request, "portal/apply.html", context)


def _subtree(root: Jurisdiction) -> list[Jurisdiction]:
    return list(Jurisdiction.objects.filter(path__startswith=root.path).order_by("path"))


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def uploads_by_code(documents: dict[str, str], uploads: dict[str, Attachment]) -> dict[str, Any]:
    return {code: uploads[value] for code, value in documents.items() if value in uploads}


def _check_before_review(
    service: Service,
    requirements: list[dict[str, Any]],
    data: dict[str, Any],
    documents: dict[str, str],
) -> None:
    from ocsc.cases.formdata import clean_form_data

    errors: dict[str, str] = {}
    try:
        clean_form_data(service.fields, {k: v for k, v in data.items() if v not in (None, "", [])})
    except InvalidInput as exc:
        errors.update({f"data.{k}": m for k, m in exc.errors.items()})
    for requirement in requirements:
        if requirement.get("required", True) and requirement["code"] not in documents:
            errors[f"documents.{requirement['code']}"] = _("This document is required.")
    if errors:
        raise InvalidInput(errors)


# Following applications -----------------------------------------------------------------


@login_required
def my_applications(request: HttpRequest) -> HttpResponse:
    applications = citizen_applications(_user(request))
    return render(
        request,
        "portal/applications.html",
        {"applications": applications[:200], "now": timezone.now()},
    )


def _application_context(request: HttpRequest, application: Application) -> dict[str, Any]:
    user = _user(request)
    internal = sees_internal(user, application)
    events = list(timeline(application, internal=internal))
    step = application.current_step
    roles = _role_names(application.organization)
    process = process_of(application.process)
    spec = process.steps.get(step.state) if step else None
    challan = None
    if spec is not None and spec.fee:
        challan = next(
            (e.data["challan"] for e in reversed(events) if "challan" in (e.data or {})), None
        )
    left = None
    if application.due_at and not application.is_closed:
        calendar = work_calendar(application.organization.calendar)
        unit = process.sla.unit if process.sla else "d"
        remaining = calendar.elapsed(timezone.now(), application.due_at, unit)
        left = {"days": remaining.days, "hours": remaining.seconds // 3600, "unit": unit}
    options = [
        {"option": option, "label": action_label(option.action, option.label)}
        for option in actions_for(user, application)
    ]
    watching = internal and Watch.objects.filter(user=user, application=application).exists()
    return {
        "watching": watching,
        "assignees": _assignees(user, application),
        "application": application,
        "events": events,
        "step": step,
        "spec": spec,
        "step_name": label(spec.name) if spec and spec.name else (step.state if step else ""),
        "owner_name": _("You")
        if step and step.owner_role == CITIZEN
        else label(roles.get(step.owner_role, {}) if step else {}),
        "duty": label(spec.duty) if spec and spec.duty else "",
        "challan": challan,
        "left": left,
        "options": options,
        "is_applicant": user.pk == application.citizen_id,
        "can_withdraw": may_withdraw(user, application),
        "is_official": internal and not user.is_monitor,
        "overdue": bool(step and step.due_at and step.due_at < timezone.now()),
        "now": timezone.now(),
        "role_names": {code: label(name) for code, name in roles.items()},
    }


@login_required
def application_page(request: HttpRequest, tracking_no: str) -> HttpResponse:
    application = access_application(_user(request), tracking_no)
    context = _application_context(request, application)
    context["submitted"] = request.GET.get("submitted") == "1"
    if request.GET.get("partial") == "timeline":
        return render(request, "portal/application.html#timeline", context)
    return render(request, "portal/application.html", context)


def _assignees(user: User, application: Application) -> list[User]:
    """Colleagues a supervisor may hand the current step to (none for others)."""
    step = application.current_step
    if step is None or not may_assign(user, application):
        return []
    today = timezone.localdate()
    postings = Posting.objects.filter(
        organization_id=application.organization_id,
        role__code=step.owner_role,
        starts_on__lte=today,
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    path = application.jurisdiction.path
    return sorted(
        {
            p.user
            for p in postings.select_related("user", "jurisdiction")
            if p.jurisdiction is None or path.startswith(p.jurisdiction.path)
        },
        key=lambda u: u.name,
    )


@login_required
@require_POST
def assign_step(request: HttpRequest, tracking_no: str) -> HttpResponseBase:
    user = _user(request)
    application = access_application(user, tracking_no)
    assignee = User.objects.filter(pk=request.POST.get("user", "0") or "0").first()
    try:
        if assignee is None:
            raise InvalidInput({"user": _("Choose a colleague.")})
        actions.assign(application, actor=user, assignee=assignee)
    except InvalidInput as exc:
        return _act_error(request, application, "; ".join(exc.errors.values()), 422)
    except (NotAllowed, ActionRefused) as exc:
        return _act_error(request, application, str(exc), 403)
    except ApplicationChanged as exc:
        return _act_error(request, application, str(exc), 409)
    return redirect("portal:application", application.tracking_no)


@login_required
@require_POST
def comment(request: HttpRequest, tracking_no: str) -> HttpResponseBase:
    user = _user(request)
    application = access_application(user, tracking_no)
    try:
        actions.add_comment(
            application,
            actor=user,
            text=request.POST.get("text", ""),
            internal=request.POST.get("internal") == "1",
        )
    except InvalidInput as exc:
        return _act_error(request, application, "; ".join(exc.errors.values()), 422)
    except NotAllowed as exc:
        return _act_error(request, application, str(exc), 403)
    return redirect(reverse("portal:application", args=[application.tracking_no]) + "#timeline")


def _act_error(
    request: HttpRequest, application: Application, message: str, status: int
) -> HttpResponse:
    context = _application_context(request, application)
    context["error"] = message
    return render(request, "portal/application.html", context, status=status)


@login_required
@require_POST
def act(request: HttpRequest, tracking_no: str) -> HttpResponseBase:
    """Take a process action (or withdraw / resubmit) from the application page."""
    user = _user(request)
    application = access_application(user, tracking_no)
    name = request.POST.get("action", "")
    text = request.POST.get("comment", "")
    documents: dict[str, str] = {}
    try:
        for key in request.FILES:
            if key.startswith("file."):
                file = request.FILES.get(key)
                if file is None:
                    continue
                documents[key[5:]] = str(actions.upload_file(actor=user, file=file).uuid)
        for key in request.POST:
            if key.startswith("documents.") and request.POST[key]:
                documents[key[10:]] = request.POST[key]
        if name == "withdraw":
            actions.withdraw(application, actor=user, reason=text)
        else:
            actions.take_action(
                application, actor=user, action=name, comment=text, documents=documents
            )
    except (FileRefused, InvalidInput) as exc:
        message = "; ".join(exc.errors.values()) if isinstance(exc, InvalidInput) else str(exc)
        return _act_error(request, application, message, 422)
    except ActionRefused as exc:
        status = 403 if exc.code == "not_allowed" else 422
        return _act_error(request, application, str(exc), status)
    except NotAllowed as exc:
        return _act_error(request, application, str(exc), 403)
    except ApplicationChanged as exc:
        return _act_error(request, application, str(exc), 409)
    return redirect("portal:application", application.tracking_no)


@login_required
def document(request: HttpRequest, tracking_no: str, document_id: UUID) -> FileResponse:
    application = access_application(_user(request), tracking_no)
    attachment = get_object_or_404(Attachment, application=application, uuid=document_id)
    internal = attachment.event and attachment.event.visibility == Event.Visibility.INTERNAL
    if internal and not sees_internal(_user(request), application):
        raise Http404("No such document.")
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        filename=attachment.filename,
    )
    response["Content-Disposition"] = f'inline; filename="{attachment.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def track(request: HttpRequest) -> HttpResponse:
    """Anyone with the tracking number and the last four digits of the applicant's phone
    sees the state and current step: never names, addresses or documents."""
    number = request.GET.get("tracking_no", "").strip().upper()[:24]
    digits = request.GET.get("phone", "").strip()[-4:]
    found = None
    asked = bool(number or digits)
    if number and len(digits) == 4 and digits.isdigit():
        found = (
            Application.objects.select_related("service", "organization", "current_step")
            .filter(tracking_no=number, citizen__phone__endswith=digits)
            .first()
        )
    step_name = ""
    if found is not None and found.current_step is not None:
        spec = process_of(found.process).steps.get(found.current_step.state)
        step_name = label(spec.name) if spec and spec.name else found.current_step.state
    return render(
        request,
        "portal/track.html",
        {
            "number": number,
            "digits": digits,
            "found": found,
            "asked": asked,
            "step_name": step_name,
        },
        status=404 if asked and found is None else 200,
    )


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's in-app notifications, newest first; opening the list marks them read."""
    user = _user(request)
    items = list(inbox(user)[:50])
    mark_read(user, [item.pk for item in items if item.read_at is None])
    return render(request, "portal/notifications.html", {"items": items})
