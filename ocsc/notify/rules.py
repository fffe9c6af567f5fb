"""Who is told what. Every notification OCSC makes starts here.

On an Event (when it is dispatched):

1. **The applicant**, on every public event on their application that someone else made,
   and on their own submission (the receipt with the tracking number). Never on an
   internal event (assignments, escalations, internal notes), never on their own comments.
2. **The officials responsible for a step when work arrives on it**: the step's assignee,
   or else everyone posted to its owner role for the application's place — when a
   submission, an action or a resubmission opens an organization's step; when a step is
   assigned (the assignee); when the applicant writes or adds documents on it.
3. **The supervisor on escalation**: those posted to the role the step escalated to.

From the timers (`timers.py`):

4. **Reminders** to the officials responsible for a step before it falls due, and to the
   applicant before their own step times out.
5. **The head**, once a day, with a digest of the organization's overdue work.

Nobody is told of what they did themselves, except the applicant's receipt. Each message
has a topic; the person's channels for that topic (their choice on the profile page, else
`DEFAULT_CHANNELS`) say how it goes, and in-app always.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone

from ocsc.accounts.models import Posting, User
from ocsc.cases.access import roles_here
from ocsc.cases.models import Application, Event, Step
from ocsc.catalog.process import process_of
from ocsc.compiled import Compiled
from ocsc.notify.models import Channel, Topic
from ocsc.notify.texts import WORDS
from ocsc.workflow import CITIZEN, Process

# The channels a person gets for each topic until they choose (in-app is always on).
DEFAULT_CHANNELS: dict[str, tuple[str, ...]] = {
    Topic.RECEIPT: (Channel.SMS,),  # the tracking number, by SMS
    Topic.DECISION: (Channel.SMS,),  # decided, or waiting on the applicant, by SMS
    Topic.PROGRESS: (),
    Topic.WORK: (Channel.EMAIL,),
    Topic.ESCALATION: (Channel.SMS, Channel.EMAIL),
    Topic.DIGEST: (Channel.EMAIL,),
}
CITIZEN_TOPICS = (Topic.RECEIPT, Topic.DECISION, Topic.PROGRESS)
STAFF_TOPICS = (Topic.WORK, Topic.ESCALATION, Topic.DIGEST)
CHOOSABLE_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.PUSH)

# The topic of each reason (a reason names the text, in texts.py).
TOPICS: dict[str, str] = {
    "submitted": Topic.RECEIPT,
    "needs_you": Topic.DECISION,
    "fee_due": Topic.DECISION,
    "completed": Topic.DECISION,
    "rejected": Topic.DECISION,
    "closed": Topic.DECISION,
    "timeout_reminder": Topic.DECISION,
    "progress": Topic.PROGRESS,
    "comment": Topic.PROGRESS,
    "documents": Topic.PROGRESS,
    "work": Topic.WORK,
    "assigned": Topic.WORK,
    "citizen_comment": Topic.WORK,
    "citizen_documents": Topic.WORK,
    "reminder": Topic.WORK,
    "escalated": Topic.ESCALATION,
    "digest": Topic.DIGEST,
}

Label = str | Mapping[str, str]  # plain text, or a {language: text} map chosen per recipient


@dataclass(frozen=True)
class Message:
    """One thing to tell one person; `key` is what it is about (unique per person)."""

    recipient: User
    reason: str
    key: str
    application: Application | None = None
    step: Step | None = None
    event: Event | None = None
    values: Mapping[str, Label] = field(default_factory=dict)
    link: str = ""

    @property
    def topic(self) -> str:
        return TOPICS[self.reason]


# On an Event ----------------------------------------------------------------------------


def for_event(event: Event) -> list[Message]:
    """The messages an Event makes (rules 1–3 above)."""
    application = event.application
    process = process_of(application.process)
    key = f"event:{event.pk}"
    base = _values(application, process, event=event)
    messages: list[Message] = []

    reason = applicant_reason(event, process)
    if reason is not None:
        messages.append(
            Message(application.citizen, reason, key, application, event.step, event, base)
        )

    arrived = arrived_step(event, process)
    if arrived is not None:
        values = {**base, **_step_values(application, process, arrived)}
        for official in responsible(application, arrived):
            messages.append(Message(official, "work", key, application, arrived, event, values))

    step = event.step
    if event.kind == Event.Kind.ASSIGNED and step is not None and step.assignee is not None:
        values = {**base, **_step_values(application, process, step)}
        messages.append(Message(step.assignee, "assigned", key, application, step, event, values))

    if (
        event.kind in (Event.Kind.COMMENT, Event.Kind.DOCUMENTS)
        and event.visibility == Event.Visibility.PUBLIC
        and event.actor_id == application.citizen_id
        and step is not None
        and step.left_at is None
        and step.owner_role not in ("", CITIZEN)
    ):
        reason = "citizen_comment" if event.kind == Event.Kind.COMMENT else "citizen_documents"
        values = {**base, **_step_values(application, process, step)}
        for official in responsible(application, step):
            messages.append(Message(official, reason, key, application, step, event, values))

    if event.kind == Event.Kind.ESCALATED and step is not None:
        role = str(event.data.get("to_role", ""))
        values = {
            **base,
            **_step_values(application, process, step),
            "role": _role_name(application, step.owner_role),
            "level": str(event.data.get("level", "")),
        }
        for supervisor in holders(application, role):
            messages.append(Message(supervisor, "escalated", key, application, step, event, values))

    return _once_each(m for m in messages if m.recipient.pk != event.actor_id or _receipt(m))


def applicant_reason(event: Event, process: Process) -> str | None:
    """What the applicant is told of an event, if anything."""
    application = event.application
    if event.visibility != Event.Visibility.PUBLIC:
        return None
    if event.kind == Event.Kind.SUBMITTED:
        return "submitted"
    if event.actor_id == application.citizen_id:
        return None
    if event.kind in (Event.Kind.ACTION, Event.Kind.RESUBMITTED, Event.Kind.WITHDRAWN):
        reached = process.steps.get(event.to_state)
        if reached is None or reached.outcome == "withdrawn":
            return "closed"
        if reached.outcome in ("approved", "resolved"):
            return "completed"
        if reached.outcome == "rejected":
            return "rejected"
        if reached.owner == CITIZEN:
            return "fee_due" if reached.fee else "needs_you"
        return "progress"
    if event.kind == Event.Kind.COMMENT:
        return "comment"
    if event.kind == Event.Kind.DOCUMENTS:
        return "documents"
    return None


def _arrived(application_id: int, state: str, entered_at: datetime) -> QuerySet[Step]:
    return (
        Step.objects.filter(application_id=application_id, state=state, entered_at=entered_at)
        .select_related("assignee")
        .order_by("-pk")[:1]
    )


_ARRIVED = Compiled(_arrived)


def arrived_step(event: Event, process: Process) -> Step | None:
    """The organization's step an event opened (work arriving), if it is still open."""
    if event.kind not in (Event.Kind.SUBMITTED, Event.Kind.ACTION, Event.Kind.RESUBMITTED):
        return None
    if event.kind == Event.Kind.SUBMITTED:
        step = event.step
    else:
        # Where the process says no official's step opens (an end, the applicant's turn),
        # there is none to look for.
        spec = process.steps.get(event.to_state)
        if spec is None or spec.terminal or spec.owner in (None, "", CITIZEN):
            return None
        step = _ARRIVED.first(
            application_id=event.application_id, state=event.to_state, entered_at=event.created_at
        )
    if step is None or step.left_at is not None or step.owner_role in ("", CITIZEN):
        return None
    return step


# From the timers ------------------------------------------------------------------------


def reminders(step: Step) -> list[Message]:
    """Rule 4: before a step falls due, its officials; before a citizen's step times out,
    the applicant."""
    application = step.application
    process = process_of(application.process)
    values = {**_values(application, process), **_step_values(application, process, step)}
    if step.owner_role == CITIZEN:
        return [
            Message(
                application.citizen,
                "timeout_reminder",
                f"timeout-reminder:{step.pk}",
                application,
                step,
                values=values,
            )
        ]
    return [
        Message(official, "reminder", f"reminder:{step.pk}", application, step, values=values)
        for official in responsible(application, step)
    ]


def digest(
    organization_id: int, *, day: str, count: int, late: list[str], name: Mapping[str, str]
) -> list[Message]:
    """Rule 5: the heads of an organization, once a day, when it has overdue work."""
    values: dict[str, Label] = {
        "count": str(count),
        "list": ", ".join(late),
        "organization": name,
    }
    heads = _postings(organization_id).filter(role__head=True).values("user")
    return [
        Message(head, "digest", f"digest:{organization_id}:{day}", values=values, link="/")
        for head in User.objects.filter(pk__in=heads, is_active=True)
    ]


# Who holds a role -----------------------------------------------------------------------


def responsible(application: Application, step: Step) -> list[User]:
    """The step's assignee, or else the officials posted to its owner role here."""
    if step.assignee_id is not None:
        assignee = step.assignee
        return [assignee] if assignee is not None and assignee.is_active else []
    return holders(application, step.owner_role)


def holders(application: Application, role: str) -> list[User]:
    """The active officials posted to `role` in the application's organization, for a place
    that includes the application's."""
    if not role or role == CITIZEN:
        return []
    return _HOLDERS.all(
        organization_id=application.organization_id,
        role=role,
        paths=application.jurisdiction.paths_up,
        day=timezone.localdate(),
    )


def _holders(organization_id: int, role: str, paths: list[str], day: date) -> QuerySet[User]:
    postings = Posting.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=day),
        Q(jurisdiction__isnull=True) | Q(jurisdiction__path__in=paths),
        organization_id=organization_id,
        role__code=role,
        starts_on__lte=day,
    )
    return User.objects.filter(pk__in=postings.values("user"), is_active=True)


_HOLDERS = Compiled(_holders)  # (every dispatch asks who holds the step's role)


def _postings(organization_id: int) -> QuerySet[Posting]:
    today = timezone.localdate()
    return Posting.objects.filter(organization_id=organization_id, starts_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )


# Values for the texts -------------------------------------------------------------------


def _values(
    application: Application, process: Process, *, event: Event | None = None
) -> dict[str, Label]:
    values: dict[str, Label] = {
        "tracking_no": application.tracking_no,
        "service": application.service.name,
        "organization": application.organization.name,
    }
    if event is not None:
        values["comment"] = event.text
        values["step"] = _state_name(process, event.to_state or application.state)
        if event.actor_role and event.actor_role not in (CITIZEN, "system"):
            values["role"] = _role_name(application, event.actor_role)
        challan = event.data.get("challan") if isinstance(event.data, dict) else None
        if isinstance(challan, dict):
            values["amount"] = _amount(str(challan.get("amount", "")))
            values["currency"] = str(challan.get("currency", ""))
            values["challan"] = str(challan.get("reference", ""))
    return values


def _step_values(application: Application, process: Process, step: Step) -> dict[str, Label]:
    values: dict[str, Label] = {"step": _state_name(process, step.state)}
    spec = process.steps.get(step.state)
    hours = spec is not None and spec.sla is not None and spec.sla.unit == "h"
    values["due"] = (
        format_due(step.due_at, application.organization.calendar.timezone, hours=hours)
        if step.due_at
        else WORDS["no_due"]
    )
    return values


def format_due(moment: datetime, zone: str, *, hours: bool) -> str:
    """A due time as people read it in the organization's time zone: 12-05-2026, or with the
    time for timelines counted in hours."""
    local = timezone.localtime(moment, ZoneInfo(zone))
    return local.strftime("%d-%m-%Y %H:%M" if hours else "%d-%m-%Y")


def _state_name(process: Process, state: str) -> Label:
    spec = process.steps.get(state)
    if spec is not None and spec.name:
        return spec.name
    return state.replace("_", " ").capitalize()


def _role_name(application: Application, code: str) -> Label:
    role = roles_here(application).get(code)
    name = role.name if role is not None else None
    return name if isinstance(name, dict) and name else code.replace("_", " ")


def _amount(raw: str) -> str:
    try:
        value = float(raw)
    except ValueError:
        return raw
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"


def _receipt(message: Message) -> bool:
    return message.reason == "submitted"


def _once_each(messages: Iterable[Message]) -> list[Message]:
    """One message per person per event: the first rule that names them wins."""
    seen: set[int] = set()
    kept = []
    for message in messages:
        if message.recipient.pk not in seen:
            seen.add(message.recipient.pk)
            kept.append(message)
    return kept
