"""Uploads, applications, their timeline, comments, actions, documents, and work queues."""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile as SentFile
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Status, UploadedFile
from ninja.errors import HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ValidationError as PydanticError

from ocsc.accounts.access import keep_scopes, scope_params, with_scopes
from ocsc.accounts.identity import normalize_phone
from ocsc.accounts.models import User
from ocsc.api.auth import caller, signed_in
from ocsc.api.render import application_out, event_out
from ocsc.api.schemas import (
    ActionIn,
    ApplicationFilterIn,
    ApplicationIn,
    ApplicationItemOut,
    ApplicationOut,
    AssignIn,
    CommentIn,
    DocumentsIn,
    ErrorOut,
    EventOut,
    QueueItemOut,
    UploadOut,
    application_item,
    queue_item,
)
from ocsc.cases import actions
from ocsc.cases.access import access_application, sees_internal
from ocsc.cases.formdata import InvalidInput
from ocsc.cases.models import Application, Channel, Step
from ocsc.cases.queries import (
    ApplicationFilter,
    OwnApplications,
    own_only,
    route_service,
    timeline,
    visible_applications,
    work_queue,
)
from ocsc.catalog.models import Jurisdiction, Organization, Service
from ocsc.catalog.process import process_of
from ocsc.compiled import Compiled
from ocsc.workflow import CITIZEN

router = Router(tags=["applications"], auth=signed_in)

PAGE_MAX = 200
OFFSET_MAX = 2**31 - 1
LIST = {401: ErrorOut, 422: ErrorOut}
READ = {401: ErrorOut, 404: ErrorOut}
WRITE = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class Pages(LimitOffsetPagination):
    """`limit` (at most PAGE_MAX) and `offset`, bounded: an offset past the database's
    integers is a 422, not a server error (found by tests/api/test_fuzz.py). Each row of the
    page is answered as `present(row, now)` builds it."""

    class Input(LimitOffsetPagination.Input):
        offset: int = Field(0, ge=0, le=OFFSET_MAX)

    def __init__(self, *, present: Callable[[Any, datetime], dict[str, Any]], **kwargs: Any):
        self.present = present
        super().__init__(**kwargs)

    def paginate_queryset(
        self,
        queryset: QuerySet[Any],
        pagination: LimitOffsetPagination.Input,
        request: HttpRequest,
        **params: Any,
    ) -> Any:
        if isinstance(queryset, OwnApplications):  # the same page, on compiled SQL
            limit = min(pagination.limit, self.max_limit)
            items = queryset.page(pagination.offset, limit)
            # A page that is not full, and not past the end, tells how many there are: most
            # people's whole list is one such page, and its count a statement for nothing.
            short = len(items) < limit and (bool(items) or pagination.offset == 0)
            count = pagination.offset + len(items) if short else queryset.count()
            page: dict[str, Any] = {self.items_attribute: items, "count": count}
        else:
            page = super().paginate_queryset(queryset, pagination, request, **params)
        now = timezone.now()
        page[self.items_attribute] = [self.present(row, now) for row in page[self.items_attribute]]
        return page


@router.post("/uploads", response={201: UploadOut, 401: ErrorOut, 422: ErrorOut})
def upload(request: HttpRequest, file: File[UploadedFile]) -> Status[UploadOut]:
    """Upload one document (PDF, JPEG or PNG, judged by its content; at most 10 MB) as the
    multipart field `file`. It is held for you for 24 hours: name it by `upload_id` in the
    `documents` of a submission or an action. One nobody used is deleted a day after that."""
    attachment = actions.upload_file(actor=caller(request), file=file)
    return Status(
        201,
        UploadOut(
            upload_id=attachment.uuid,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
            expires_at=attachment.created_at + settings.UPLOAD_HOLD,
        ),
    )


def _place(code: str) -> QuerySet[Jurisdiction]:
    return Jurisdiction.objects.filter(code=code).order_by()[:1]


def _offered(code: str, organization: str) -> QuerySet[Service]:
    return (
        Service.objects.filter(code=code, active=True, organization__code=organization)
        .select_related("organization__calendar", "organization__kind", "current_process")
        .order_by()[:1]
    )


_PLACE = Compiled(_place)
_OFFERED = Compiled(_offered)


def _service_for(payload: ApplicationIn) -> tuple[Service, Jurisdiction]:
    """The service and area a submission names, routed when no organization is given."""
    place = _PLACE.first(code=payload.jurisdiction)
    if place is None:
        raise InvalidInput(
            {"jurisdiction": _("no area has the code '%(code)s'") % {"code": payload.jurisdiction}}
        )
    if payload.organization:
        service = _OFFERED.first(code=payload.service, organization=payload.organization)
        if service is None and not Organization.objects.filter(code=payload.organization).exists():
            raise InvalidInput(
                {"organization": _("no organization '%(code)s'") % {"code": payload.organization}}
            )
        if service is None:
            raise InvalidInput(
                {
                    "service": _("%(organization)s offers no service '%(service)s'")
                    % {"organization": payload.organization, "service": payload.service}
                }
            )
        return service, place
    if not Service.objects.filter(code=payload.service, active=True).exists():
        raise InvalidInput(
            {"service": _("no service '%(service)s' is on offer") % {"service": payload.service}}
        )
    routed = route_service(payload.service, place)
    if routed is None:
        raise InvalidInput(
            {
                "jurisdiction": _("no organization offers '%(service)s' in %(place)s")
                % {"service": payload.service, "place": place.code}
            }
        )
    return routed, place


# A submission sent as a form: its JSON in this field, its documents' files beside it.
SUBMISSION_FIELD = "application"

# `POST /applications` reads its body itself (`_submission`), to take JSON or a form.
_SUBMIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": ApplicationIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [SUBMISSION_FIELD],
                    "properties": {
                        SUBMISSION_FIELD: {
                            "type": "string",
                            "description": "The submission's JSON, as sent in a JSON body",
                        }
                    },
                    "additionalProperties": {
                        "type": "string",
                        "format": "binary",
                        "description": "A document's file, under its requirement's code",
                    },
                }
            },
        },
    }
}


def _submission(request: HttpRequest) -> tuple[ApplicationIn, dict[str, SentFile[bytes]]]:
    """The submission a request carries: a JSON body, or a form (multipart) whose field
    `application` holds that JSON and whose files are documents, each under the code of the
    requirement it meets."""
    files: dict[str, SentFile[bytes]] = {}
    if request.content_type == "multipart/form-data":
        raw: str | bytes | None = request.POST.get(SUBMISSION_FIELD)
        if raw is None:
            raise InvalidInput(
                {SUBMISSION_FIELD: _("required: the submission's JSON, in this form field")}
            )
        for code, sent in request.FILES.lists():
            if len(sent) > 1:
                raise InvalidInput({f"documents.{code}": _("one file per document")})
            files[code] = sent[0]
    else:
        raw = request.body or b"{}"
    try:
        return ApplicationIn.model_validate_json(raw), files
    except PydanticError as exc:
        problems = exc.errors(include_url=False, include_context=False, include_input=False)
        if any(problem["type"] == "json_invalid" for problem in problems):
            raise HttpError(400, "Cannot parse request body") from exc
        raise SchemaError([{**p, "loc": ("body", "payload", *p["loc"])} for p in problems]) from exc


@router.post(
    "/applications",
    response={201: ApplicationOut, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut},
    openapi_extra=_SUBMIT_BODY,
)
def submit(request: HttpRequest) -> Status[ApplicationOut]:
    """Apply for a service: the submission as JSON, or as a form (`multipart/form-data`)
    with that JSON in its field `application` and the documents' files beside it, each
    under its requirement's code (instead of uploading them first and naming their
    `upload_id`s in `documents`). Without `organization`, the application goes to the
    organization that serves the jurisdiction."""
    user = caller(request)
    payload, files = _submission(request)
    service, place = _service_for(payload)
    by_token = getattr(request, "api_token", None) is not None
    application = actions.submit_application(
        citizen=user,
        service=service,
        jurisdiction=place,
        data=payload.data,
        location=payload.location.model_dump(exclude_none=True) if payload.location else None,
        documents=payload.documents,
        files=files,
        channel=payload.channel or (Channel.API if by_token else Channel.WEB),
    )
    return Status(201, application_out(application, user))


def _detail(user: User, tracking_no: str) -> ApplicationOut:
    return application_out(access_application(user, tracking_no, with_attachments=True), user)


@router.get("/applications", response={200: list[ApplicationItemOut], **LIST})
@paginate(Pages, max_limit=PAGE_MAX, present=application_item)
def list_applications(
    request: HttpRequest, filters: Query[ApplicationFilterIn]
) -> QuerySet[Application]:
    """Citizens: their own. Officials: their organizations' (in their areas). Monitors: all."""
    wanted = ApplicationFilter(**filters.model_dump())
    user = caller(request)
    if own_only(user, wanted):
        return OwnApplications(user.pk)  # type: ignore[return-value]  # paged by Pages
    return visible_applications(user, wanted).select_related("process")


@router.get("/applications/{tracking_no}", response={200: ApplicationOut, **READ})
def detail(request: HttpRequest, tracking_no: str) -> ApplicationOut:
    """Where the application is, and what the caller may do with it now."""
    return _detail(caller(request), tracking_no)


@router.get(
    "/applications/{tracking_no}/events", response={200: list[EventOut], **READ, 422: ErrorOut}
)
def events(request: HttpRequest, tracking_no: str, after: int | None = None) -> list[EventOut]:
    """The timeline, oldest first; `after` (an event id) for what is new. Internal notes are
    shown to the organization's officials and monitors only."""
    user = caller(request)
    application = access_application(user, tracking_no)
    rows = timeline(application, internal=sees_internal(user, application), after=after)
    return [event_out(event) for event in rows.select_related("step")]


@router.post("/applications/{tracking_no}/comments", response={201: EventOut, **WRITE})
def comment(request: HttpRequest, tracking_no: str, payload: CommentIn) -> Status[EventOut]:
    """A public comment, or (officials) an internal note."""
    user = caller(request)
    application = access_application(user, tracking_no)
    event = actions.add_comment(
        application, actor=user, text=payload.text, internal=payload.internal
    )
    return Status(201, event_out(event))


def _official(phone: str) -> QuerySet[User]:
    return User.objects.filter(phone=phone, is_active=True).order_by()[:1]


_OFFICIAL = Compiled(_official)
_WITH_SCOPES = with_scopes("id")  # the assignment asks what the assignee holds


def _assignee(phone: str, field: str) -> User:
    try:
        number = normalize_phone(phone)
    except ValidationError as exc:
        raise InvalidInput({field: exc.messages[0]}) from None
    found, postings = _OFFICIAL.first_around(_WITH_SCOPES, scope_params(), phone=number)
    if found is None:
        raise InvalidInput({field: _("no official has the number %(phone)s") % {"phone": number}})
    keep_scopes(found, postings)
    return found


@router.post("/applications/{tracking_no}/actions", response={200: ApplicationOut, **WRITE})
def act(request: HttpRequest, tracking_no: str, payload: ActionIn) -> ApplicationOut:
    """Take an action of the current step (see the detail's `actions`). For the applicant,
    `resubmit` sends a returned application back and `withdraw` withdraws it, whatever the
    step's own action names. With `assignee`, the next step is assigned in the same
    transaction (only a supervisor of its role may)."""
    user = caller(request)
    application = access_application(user, tracking_no, write=True, with_attachments=True)
    if payload.state is not None and payload.state != application.state:
        raise actions.ApplicationChanged(application)
    assignee = _assignee(payload.assignee, "assignee") if payload.assignee else None
    step = application.current_step
    own = process_of(application.process).steps[step.state].actions if step else {}
    # The action and the assignment (if any) in one transaction.
    if payload.action == "withdraw" and "withdraw" not in own:
        actions.withdraw(application, actor=user, reason=payload.comment, assign_to=assignee)
    elif payload.action == "resubmit" and (
        "resubmit" not in own or (step is not None and step.owner_role == CITIZEN)
    ):
        actions.resubmit(
            application,
            actor=user,
            comment=payload.comment,
            documents=payload.documents,
            assign_to=assignee,
        )
    else:
        actions.take_action(
            application,
            actor=user,
            action=payload.action,
            comment=payload.comment,
            documents=payload.documents,
            assign_to=assignee,
        )
    return application_out(application, user)


@router.post("/applications/{tracking_no}/assign", response={200: ApplicationOut, **WRITE})
def assign(request: HttpRequest, tracking_no: str, payload: AssignIn) -> ApplicationOut:
    """Assign the current step to an official holding its role (supervisors and heads)."""
    user = caller(request)
    application = access_application(user, tracking_no, write=True, with_attachments=True)
    actions.assign(application, actor=user, assignee=_assignee(payload.user, "user"))
    return application_out(application, user)


@router.post("/applications/{tracking_no}/documents", response={201: EventOut, **WRITE})
def attach(request: HttpRequest, tracking_no: str, payload: DocumentsIn) -> Status[EventOut]:
    """Attach uploaded documents to the current step (an inspection report, a new copy)."""
    user = caller(request)
    application = access_application(user, tracking_no, write=True)
    event = actions.attach_documents(application, actor=user, documents=payload.documents)
    return Status(201, event_out(event))


@router.get(
    "/applications/{tracking_no}/documents/{document_id}",
    response={200: None, **READ},
    openapi_extra={
        "responses": {
            200: {
                "description": "The file",
                "content": {t: {} for t in ("application/pdf", "image/jpeg", "image/png")},
            }
        }
    },
)
def document(request: HttpRequest, tracking_no: str, document_id: str) -> FileResponse:
    """One document of the application, for those who may see the application."""
    application = access_application(caller(request), tracking_no)
    try:
        key = UUID(document_id)
    except ValueError:
        raise Http404(_("No such document.")) from None
    attachment = application.attachments.filter(uuid=key).first()
    if attachment is None:
        raise Http404(_("No such document."))
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        filename=attachment.filename,
        as_attachment=False,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("/queue", response={200: list[QueueItemOut], **LIST})
@paginate(Pages, max_limit=PAGE_MAX, present=queue_item)
def queue(request: HttpRequest) -> QuerySet[Step]:
    """The caller's work: open steps owned by their roles in their areas, assigned to them or
    to nobody; overdue and soonest due first."""
    return work_queue(caller(request)).select_related("application__process")
