"""An application and its events as the API shows them to one caller.

What the caller may do now (`actions`, `can_*`) is asked of the engine (`allowed_actions`)
and the access module (`roles_of`, `chart_of`) with the caller's roles, so the answer is
the one the actions would give.
"""

from datetime import UTC, datetime
from typing import overload

from django.db.models import QuerySet
from django.utils import timezone

from ocsc.accounts.models import User
from ocsc.api.present import (
    default_label,
    is_late,
    overall_late,
    person,
    role_name,
    step_name,
)
from ocsc.api.schemas import (
    ApplicationOut,
    AvailableActionOut,
    ChallanOut,
    CodeName,
    DocumentOut,
    EventOut,
    ServiceRefOut,
    StepOut,
)
from ocsc.cases.access import may_assign, may_withdraw, roles_here, roles_of
from ocsc.cases.models import Application, Attachment, Event
from ocsc.cases.queries import actions_for
from ocsc.catalog.process import process_of
from ocsc.compiled import Compiled
from ocsc.workflow import Category


@overload
def utc(moment: datetime) -> datetime: ...
@overload
def utc(moment: None) -> None: ...
def utc(moment: datetime | None) -> datetime | None:
    """Times in UTC, as read from the database: an application just moved on in memory
    holds due times in its organization's time zone."""
    return moment.astimezone(UTC) if moment is not None else None


def _attachments(application_id: int) -> QuerySet[Attachment]:
    return (
        Attachment.objects.filter(application_id=application_id)
        .select_related("event")
        .order_by("created_at", "pk")
    )


_ATTACHMENTS = Compiled(_attachments)


def application_out(application: Application, user: User) -> ApplicationOut:
    """The application for `user`: as read by `access_application`, or as an action has just
    left it in memory (its new step included), which saves reading it again."""
    now = timezone.now()
    process = process_of(application.process)
    roles = roles_of(user, application)
    organization = application.organization
    attachments = application.attachments_known
    if attachments is None:
        attachments = _ATTACHMENTS.all(application_id=application.pk)

    step = application.current_step
    step_out = challan = None
    actions: list[AvailableActionOut] = []
    if step is not None:
        spec = process.steps[step.state]
        roles_info = roles_here(application)  # only for an open step: names and duty
        role_names = {code: role.name for code, role in roles_info.items()}
        owner = roles_info.get(step.owner_role)
        step_out = StepOut(
            state=step.state,
            name=step_name(process, step.state),
            owner=CodeName(code=step.owner_role, name=role_name(step.owner_role, role_names)),
            assignee=person(step.assignee),
            entered_at=utc(step.entered_at),
            due_at=utc(step.due_at),
            overdue=is_late(step.due_at, now),
            duty=spec.duty or (owner.duty if owner else None) or None,
        )
        actions = [
            AvailableActionOut(
                action=option.action,
                label=option.label or default_label(option.action),
                to=option.to,
                comment_required=option.comment_required,
                documents_required=list(option.documents_required),
            )
            for option in actions_for(user, application, attachments=attachments)
        ]
        if spec.fee:
            entered = (
                application.events.filter(to_state=step.state)
                .order_by("-pk")
                .values_list("data", flat=True)
                .first()
            )
            bill = (entered or {}).get("challan")
            challan = ChallanOut(**bill) if bill else None

    return ApplicationOut(
        tracking_no=application.tracking_no,
        service=ServiceRefOut(
            organization=organization.code,
            code=application.service.code,
            name=application.service.name,
        ),
        organization=CodeName(code=organization.code, name=organization.name),
        jurisdiction=CodeName(
            code=application.jurisdiction.code, name=application.jurisdiction.name
        ),
        state=application.state,
        category=Category(application.category),
        outcome=application.outcome,
        channel=application.channel,
        data=application.data,
        location=application.location,
        submitted_at=utc(application.submitted_at),
        closed_at=utc(application.closed_at),
        due_at=utc(application.due_at),
        overdue=overall_late(application, now),
        step=step_out,
        challan=challan,
        documents=[
            DocumentOut(
                id=a.uuid,
                requirement=a.requirement,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                uploaded_at=utc(a.created_at),
            )
            for a in attachments
        ],
        actions=actions,
        can_comment=bool(roles),
        can_withdraw=may_withdraw(user, application),
        can_assign=may_assign(user, application),
    )


def event_out(event: Event) -> EventOut:
    """An event of a timeline whose rows come with `actor`, `step` and `attachments`."""
    return EventOut(
        id=event.pk,
        kind=event.kind,
        actor=person(event.actor),
        actor_role=event.actor_role,
        step=event.step.state if event.step else None,
        from_state=event.from_state,
        to_state=event.to_state,
        action=event.action,
        text=event.text,
        visibility=event.visibility,
        data=event.data,
        created_at=event.created_at,
        documents=[a.uuid for a in event.attachments.all()],
    )
