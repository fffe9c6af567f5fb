"""Input and output schemas of the API, one pair per endpoint (inputs end in `In`).

Labels are `{en, ur, ps}` maps exactly as the catalog holds them; clients pick the language
and fall back to `en`. Money is a decimal string ("1000.00"), times are ISO 8601 with offset.
"""

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict

from ocsc.api.present import is_late, overall_late, person, step_name
from ocsc.cases.models import Application, Step
from ocsc.catalog.models import Jurisdiction, Organization
from ocsc.catalog.process import process_of
from ocsc.workflow import Category

Label = dict[str, str]


class Built(BaseModel):
    """An answer the code builds itself, field by field, from values it already holds: a
    plain pydantic model. A ninja `Schema` wraps even keyword arguments in its `DjangoGetter`
    and looks each field up in Python (a `CodeName` took 3.5 µs to build that way, 1.0 µs
    this way). Reading from objects (`from_attributes`) still works, as in `Schema`; the
    OpenAPI schema is the same."""

    model_config = ConfigDict(from_attributes=True)


class ErrorOut(Schema):
    detail: str
    code: str
    errors: dict[str, str] | None = Field(
        None, description="What is wrong with each field, e.g. {'data.connection_size': '…'}"
    )
    missing: list[str] | None = Field(
        None, description="For code documents_missing: the requirement codes still to attach"
    )


class DetailOut(Schema):
    detail: str


class CodeName(Built):
    code: str
    name: Label


# Accounts ------------------------------------------------------------------------------


class OtpIn(Schema):
    phone: str = Field(max_length=32, examples=["03001234567"])


class TokenIn(Schema):
    phone: str = Field(max_length=32, examples=["03001234567"])
    otp: str | None = Field(None, max_length=12, description="The code sent by SMS (citizens)")
    password: str | None = Field(None, max_length=200, description="Officials' password")
    totp: str | None = Field(
        None, max_length=12, description="Authenticator code, for officials with two-factor on"
    )
    name: str = Field("mobile app", max_length=100, description="What the token is for")


class UserOut(Schema):
    phone: str
    name: str
    cnic: str
    language: str
    is_monitor: bool


class TokenOut(Schema):
    token: str = Field(description="Send as `Authorization: Bearer <token>`; shown only once")
    prefix: str
    expires_at: datetime
    user: UserOut


class TokenInfoOut(Schema):
    prefix: str
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    current: bool = Field(description="The token this request was made with")


class PostingOut(Schema):
    organization: CodeName
    role: CodeName
    jurisdiction: str | None = Field(description="The area the posting is limited to, if any")
    starts_on: date
    ends_on: date | None


class MeOut(UserOut):
    postings: list[PostingOut]


# Catalog -------------------------------------------------------------------------------


class JurisdictionOut(Schema):
    code: str
    kind: str
    name: Label
    parent: str | None


class OrganizationOut(Schema):
    code: str
    name: Label
    kind: str
    prefix: str
    serves: list[str]


class FeeOut(Schema):
    amount: str
    currency: str


class ServiceOut(Schema):
    organization: CodeName
    code: str
    category: str
    name: Label
    description: Label
    fee: FeeOut | None


class ServiceFilterIn(Schema):
    organization: str | None = None
    jurisdiction: str | None = Field(
        None, description="Services of the organizations serving this area (or an area above it)"
    )
    category: Literal["application", "complaint"] | None = None
    q: str | None = Field(None, max_length=100, description="Words in the name, any language")


class ChoiceOut(Schema):
    value: str
    label: Label


class FormFieldOut(Schema):
    key: str
    type: str
    label: Label
    required: bool
    help: Label | None = None
    choices: list[ChoiceOut] | None = None
    min: str | None = None
    max: str | None = None
    max_length: int | None = None


class RequirementOut(Schema):
    code: str
    kind: Literal["document", "affidavit"]
    name: Label
    description: Label | None = None
    text: Label | None = Field(None, description="An affidavit's undertaking")
    required: bool
    collected_at: Literal["submission", "step"]
    step: str | None = Field(None, description="The step that asks for it, when not at submission")


class ActionSpecOut(Schema):
    action: str
    label: Label
    to: str
    comment_required: bool
    by: Literal["owner", "system"]


class StepSpecOut(Schema):
    state: str
    name: Label
    owner: CodeName | None = Field(description="The role responsible (code 'citizen': you)")
    duty: Label | None
    timeline: str | None = Field(description="'3d': working days; '24h': clock hours")
    requires: list[str]
    fee: bool
    outcome: str | None
    actions: list[ActionSpecOut]


class ServiceDetailOut(ServiceOut):
    fields: list[FormFieldOut]
    requirements: list[RequirementOut]
    timeline: str | None = Field(description="The whole process: '20d' working days, '24h' hours")
    start: str
    main_path: list[str] = Field(description="The states of the usual road to approval")
    steps: list[StepSpecOut]


# Applications --------------------------------------------------------------------------


class UploadOut(Schema):
    upload_id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    expires_at: datetime


class LocationIn(Schema):
    lat: float | None = None
    lng: float | None = None
    address: str | None = Field(None, max_length=500)


class ApplicationIn(Schema):
    organization: str | None = Field(
        None, description="Omit it to let OCSC route by service and jurisdiction"
    )
    service: str
    jurisdiction: str
    data: dict[str, Any] = Field(default_factory=dict, description="The service's form fields")
    location: LocationIn | None = None
    documents: dict[str, str] = Field(
        default_factory=dict, description="Requirement code → upload_id"
    )
    channel: str | None = Field(None, description="Default: api (bearer token) or web (session)")


class ServiceRefOut(Built):
    organization: str
    code: str
    name: Label


class StepOut(Built):
    state: str
    name: Label
    owner: CodeName
    assignee: str | None
    entered_at: datetime
    due_at: datetime | None
    overdue: bool
    duty: Label | None


class ChallanOut(Built):
    amount: str
    currency: str
    reference: str


class DocumentOut(Built):
    id: UUID
    requirement: str
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime


class AvailableActionOut(Built):
    action: str
    label: Label
    to: str
    comment_required: bool
    documents_required: list[str] = Field(description="Requirement codes still to attach")


class ApplicationOut(Built):
    tracking_no: str
    service: ServiceRefOut
    organization: CodeName
    jurisdiction: CodeName
    state: str
    category: Category
    outcome: str
    channel: str
    data: dict[str, Any]
    location: dict[str, Any] | None
    submitted_at: datetime
    closed_at: datetime | None
    due_at: datetime | None
    overdue: bool
    step: StepOut | None
    challan: ChallanOut | None
    documents: list[DocumentOut]
    actions: list[AvailableActionOut] = Field(description="What the caller may do now")
    can_comment: bool
    can_withdraw: bool
    can_assign: bool


class ApplicationFilterIn(Schema):
    organization: str | None = None
    service: str | None = None
    state: str | None = None
    category: Category | None = None
    overdue: bool | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    mine: bool = Field(False, description="Only the applications the caller filed")


class EventOut(Built):
    id: int
    kind: str
    actor: str | None = Field(description="The person's name; null for the system")
    actor_role: str
    step: str | None
    from_state: str
    to_state: str
    action: str
    text: str
    visibility: Literal["public", "internal"]
    data: dict[str, Any]
    created_at: datetime
    documents: list[UUID]


class CommentIn(Schema):
    text: str
    internal: bool = Field(False, description="An internal note, for officials only")


class ActionIn(Schema):
    action: str = Field(max_length=50)
    comment: str = ""
    documents: dict[str, str] = Field(
        default_factory=dict, description="Requirement code → upload_id"
    )
    assignee: str | None = Field(
        None, description="Phone number of an official to assign the next step to"
    )
    state: str | None = Field(
        None, description="The state the caller saw; if the application moved on: 409"
    )


class AssignIn(Schema):
    user: str = Field(max_length=32, description="The phone number of the assignee")


class DocumentsIn(Schema):
    documents: dict[str, str] = Field(description="Requirement code → upload_id")


# Lists: each row built into a dict by its `*_item` function ------------------------------
# (as `Built` answers are, rather than a ninja `Schema` reading each row attribute by
# attribute through its `DjangoGetter` and resolvers: a few percent of a list call)


def _service_ref(application: Application) -> dict[str, Any]:
    service = application.service
    return {
        "organization": application.organization.code,
        "code": service.code,
        "name": service.name,
    }


def _code_name(row: Organization | Jurisdiction) -> dict[str, Any]:
    return {"code": row.code, "name": row.name}


class StepSummaryOut(Built):
    state: str
    name: Label
    owner_role: str
    assignee: str | None
    entered_at: datetime
    due_at: datetime | None
    overdue: bool


class ApplicationItemOut(Built):
    tracking_no: str
    service: ServiceRefOut
    organization: CodeName
    jurisdiction: CodeName
    state: str
    category: Category
    outcome: str
    channel: str
    submitted_at: datetime
    closed_at: datetime | None
    due_at: datetime | None
    overdue: bool
    step: StepSummaryOut | None


def application_item(application: Application, now: datetime) -> dict[str, Any]:
    """An application as a list shows it (`ApplicationItemOut`)."""
    step = application.current_step
    return {
        "tracking_no": application.tracking_no,
        "service": _service_ref(application),
        "organization": _code_name(application.organization),
        "jurisdiction": _code_name(application.jurisdiction),
        "state": application.state,
        "category": application.category,
        "outcome": application.outcome,
        "channel": application.channel,
        "submitted_at": application.submitted_at,
        "closed_at": application.closed_at,
        "due_at": application.due_at,
        "overdue": overall_late(application, now),
        "step": None
        if step is None
        else {
            "state": step.state,
            "name": step_name(process_of(application.process), step.state),
            "owner_role": step.owner_role,
            "assignee": person(step.assignee),
            "entered_at": step.entered_at,
            "due_at": step.due_at,
            "overdue": is_late(step.due_at, now),
        },
    }


class QueueItemOut(Built):
    tracking_no: str
    service: ServiceRefOut
    jurisdiction: CodeName
    state: str
    step_name: Label
    owner_role: str
    assignee: str | None
    entered_at: datetime
    due_at: datetime | None
    overdue: bool
    submitted_at: datetime


def queue_item(step: Step, now: datetime) -> dict[str, Any]:
    """An open step as a work queue shows it (`QueueItemOut`)."""
    application = step.application
    return {
        "tracking_no": application.tracking_no,
        "service": _service_ref(application),
        "jurisdiction": _code_name(application.jurisdiction),
        "state": step.state,
        "step_name": step_name(process_of(application.process), step.state),
        "owner_role": step.owner_role,
        "assignee": person(step.assignee),
        "entered_at": step.entered_at,
        "due_at": step.due_at,
        "overdue": is_late(step.due_at, now),
        "submitted_at": application.submitted_at,
    }
