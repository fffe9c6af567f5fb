"""One application's life, walked through its real process as `ocsc.cases.actions` would
record it: the same Step visits (due dates on the organization's calendar, working time,
breach), the same Events (submitted, actions, resubmissions, withdrawals, assignments,
escalations, comments, documents) and the same Application fields (state, category,
outcome, due date moved by pauses, current step), in memory, ready to be written in bulk.

Time runs from the submission to `now`: whatever would happen later has not happened yet,
so recent applications are more often open, and a step whose owner is late past `now` is
open and overdue.
"""

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import count
from typing import Any
from uuid import UUID

from bench import texts
from bench.world import Choice, Official, ServicePlan, StepPlan, cnic, person_name
from ocsc.cases.models import WITHDRAWN, Event
from ocsc.workflow import CITIZEN, SYSTEM, Category, WorkCalendar

PLACEHOLDER_PDF = "private/bench/placeholder.pdf"
PLACEHOLDER_IMAGE = "private/bench/placeholder.png"

SUBMITTED = Event.Kind.SUBMITTED.value
ACTION = Event.Kind.ACTION.value
RESUBMITTED = Event.Kind.RESUBMITTED.value
WITHDRAWN_KIND = Event.Kind.WITHDRAWN.value
COMMENT = Event.Kind.COMMENT.value
DOCUMENTS = Event.Kind.DOCUMENTS.value
ASSIGNED = Event.Kind.ASSIGNED.value
ESCALATED = Event.Kind.ESCALATED.value
PUBLIC = Event.Visibility.PUBLIC.value
INTERNAL = Event.Visibility.INTERNAL.value

_MINUTE = timedelta(minutes=1)
_DAY = timedelta(days=1)
_NEVER = timedelta(days=3650)


@dataclass(frozen=True)
class Mix:
    """How often things happen (per step visit unless said otherwise)."""

    assign: float = 0.3  # a supervisor assigns the step to one official
    supervisor_acts: float = 0.05  # a supervisor acts in the owner's place
    stall: float = 0.012  # the owner forgets it: many timelines late, or for good
    staff_step_withdrawal: float = 0.006  # the citizen withdraws while officials work
    citizen_withdraws: float = 0.04  # ... while it waits on them
    citizen_ignores: float = 0.07  # the citizen never answers (it lapses, if it can)
    follow_up: float = 0.3  # the citizen asks about a late step
    reply: float = 0.6  # an official answers the follow-up
    internal_note: float = 0.06
    question: float = 0.02  # the citizen asks something
    optional_comment: float = 0.15  # an official explains an action that needs no comment
    separate_documents: float = 0.3  # a step's report is attached before the action
    optional_document: float = 0.35  # an optional document comes with the submission
    corrected_document: float = 0.5  # a resubmission brings a corrected document
    max_moves: int = 14  # then the walk takes the shortest way to an end


@dataclass(slots=True, eq=False)
class StepRow:
    id: int
    state: str
    owner_role: str
    entered_at: datetime
    due_at: datetime | None
    assignee_id: int | None = None
    left_at: datetime | None = None
    working_time: timedelta | None = None
    breached: bool = False
    escalation_level: int = 0
    escalate_at: datetime | None = None  # (set on the steps still open: the next level's time)
    times_out_at: datetime | None = None  # a citizen's step with a timeout: its due time


@dataclass(slots=True, eq=False)
class EventRow:
    seq: int
    kind: str
    created_at: datetime
    step: StepRow | None
    actor_id: int | None
    actor_role: str
    from_state: str = ""
    to_state: str = ""
    action: str = ""
    text: str = ""
    visibility: str = PUBLIC
    data: dict[str, Any] = field(default_factory=dict)
    id: int = 0


@dataclass(slots=True, eq=False)
class AttachmentRow:
    uuid: UUID
    uploaded_by: int
    event: EventRow
    requirement: str
    file: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    id: int = 0


@dataclass(slots=True, eq=False)
class ApplicationRow:
    id: int
    plan: ServicePlan
    tracking_no: str
    citizen_id: int
    jurisdiction_id: int
    channel: str
    submitted_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    location: dict[str, Any] | None = None
    state: str = ""
    category: str = Category.OPEN.value
    outcome: str = ""
    current_step: StepRow | None = None
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    due_at: datetime | None = None
    paused_at: datetime | None = None
    steps: list[StepRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    attachments: list[AttachmentRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Decision:
    """What ends a step visit: an action (or a withdrawal), when, and by whom."""

    at: datetime
    action: str
    to: str
    actor_id: int | None
    actor_role: str
    kind: str
    text: str = ""
    documents: tuple[str, ...] = ()
    uploader: int | None = None
    move: str = "forward"  # the Choice kind, or withdraw / timeout


class Simulator:
    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        *,
        step_ids: "count[int]",
        event_ids: "count[int]",
        attachment_ids: "count[int]",
        mix: Mix | None = None,
    ) -> None:
        self.rng = rng
        self.utc_now = now
        self.now = now  # in the time zone of the application at hand (cheaper comparisons)
        self.mix = mix or Mix()
        self.step_ids = step_ids
        self.event_ids = event_ids
        self.attachment_ids = attachment_ids
        self.seq = count()

    # -- the walk

    def walk(self, app: ApplicationRow) -> None:
        """Live the application's life up to now."""
        plan, rng = app.plan, self.rng
        calendar = plan.org.calendar
        start = app.submitted_at
        self.now = self.utc_now.astimezone(start.tzinfo)
        if plan.process.sla is not None:
            app.due_at = calendar.due_at(start, plan.process.sla)
        app.data, app.location = self._form(plan)
        step = self._enter(app, plan.start, start)
        documents = [
            code
            for code, required in plan.submission_documents
            if required or rng.random() < self.mix.optional_document
        ]
        submitted = self._event(
            app,
            SUBMITTED,
            start,
            step,
            app.citizen_id,
            CITIZEN,
            to_state=plan.start,
            data={"channel": app.channel, "documents": sorted(documents)},
        )
        for code in documents:
            self._attach(app, submitted, code, app.citizen_id, start - rng.uniform(1, 40) * _MINUTE)
        moves = returns = backs = 0
        while step is not None:
            spec = plan.steps[step.state]
            if spec.owner == CITIZEN:
                decision = self._citizen_turn(app, step, spec)
            else:
                decision = self._staff_turn(app, step, spec, moves, returns, backs)
            if decision is None:
                break  # still there now
            moves += 1
            returns += decision.move == "return"
            backs += decision.move == "back"
            step = self._take(app, step, spec, decision)
        self._finish(app)

    def _enter(self, app: ApplicationRow, state: str, at: datetime) -> StepRow | None:
        """As actions._open_step: a new visit, or the end of the process."""
        spec = app.plan.steps[state]
        app.state = state
        app.category = spec.category.value
        app.updated_at = at
        if spec.terminal:
            app.outcome = spec.outcome
            app.closed_at = at
            app.current_step = None
            app.paused_at = None
            return None
        calendar = app.plan.org.calendar
        step = StepRow(
            id=next(self.step_ids),
            state=state,
            owner_role=spec.owner,
            entered_at=at,
            due_at=calendar.due_at(at, spec.sla) if spec.sla is not None else None,
        )
        if spec.owner == CITIZEN and spec.timeout is not None:
            step.times_out_at = step.due_at
        app.steps.append(step)
        app.current_step = step
        process_sla = app.plan.process.sla
        if spec.owner == CITIZEN and app.paused_at is None:
            app.paused_at = at  # the organization's clock stops
        elif spec.owner != CITIZEN and app.paused_at is not None:
            if app.due_at is not None and process_sla is not None:
                app.due_at = calendar.extend(app.due_at, app.paused_at, at, process_sla.unit)
            app.paused_at = None
        return step

    def _close(self, step: StepRow, spec: StepPlan, calendar: WorkCalendar, at: datetime) -> None:
        step.left_at = at
        step.working_time = calendar.elapsed(step.entered_at, at, spec.unit)
        step.breached = step.due_at is not None and at > step.due_at

    def _take(
        self, app: ApplicationRow, step: StepRow, spec: StepPlan, decision: Decision
    ) -> StepRow | None:
        at = decision.at
        self._close(step, spec, app.plan.org.calendar, at)
        if decision.move == "withdraw":
            app.state = WITHDRAWN
            app.category = Category.CLOSED_WITHDRAWN.value
            app.outcome = "withdrawn"
            app.closed_at = at
            app.current_step = None
            app.paused_at = None
            app.updated_at = at
            self._event(
                app,
                WITHDRAWN_KIND,
                at,
                step,
                app.citizen_id,
                CITIZEN,
                from_state=step.state,
                to_state=WITHDRAWN,
                text=decision.text,
            )
            return None
        new = self._enter(app, decision.to, at)
        data: dict[str, Any] = {"documents": sorted(decision.documents)}
        fee = app.plan.fee
        if app.plan.steps[decision.to].fee and fee is not None:
            data["challan"] = {
                "amount": fee[0],
                "currency": fee[1],
                "reference": f"{app.tracking_no}-{len(app.steps)}",
            }
        event = self._event(
            app,
            decision.kind,
            at,
            step,
            decision.actor_id,
            decision.actor_role,
            from_state=step.state,
            to_state=decision.to,
            action=decision.action,
            text=decision.text,
            data=data,
        )
        uploader = decision.uploader if decision.uploader is not None else app.citizen_id
        for code in decision.documents:
            self._attach(app, event, code, uploader, at - self.rng.uniform(1, 30) * _MINUTE)
        return new

    # -- turns

    def _staff_turn(
        self,
        app: ApplicationRow,
        step: StepRow,
        spec: StepPlan,
        moves: int,
        returns: int,
        backs: int,
    ) -> Decision | None:
        rng, mix, now = self.rng, self.mix, self.now
        org = app.plan.org
        entered, due = step.entered_at, step.due_at
        hours = spec.unit == "h"
        if due is not None:
            span = due - entered
            luck = rng.random()
            if luck < mix.stall and rng.random() < 0.3:
                at = now + _NEVER  # forgotten for good: open and overdue ever since
            elif luck < mix.stall:
                late = span * rng.uniform(5, 60)  # forgotten for many timelines
                at = self._staff_time(org.calendar, due + late, hours=hours)
            elif luck < mix.stall + spec.breach_rate:
                late = span * rng.expovariate(1 / spec.overrun) + rng.uniform(1, 90) * _MINUTE
                at = self._staff_time(org.calendar, due + late, hours=hours)
            else:
                soon = span * (0.9 * rng.betavariate(1.4, 2.8)) + rng.uniform(2, 20) * _MINUTE
                at = self._staff_time(org.calendar, entered + soon, hours=hours)
                if at > due:  # out of office hours: it was done just in time instead
                    at = max(entered + _MINUTE, due - rng.uniform(1, 40) * _MINUTE)
        else:
            at = self._staff_time(
                org.calendar, entered + timedelta(hours=rng.uniform(2, 96)), hours=hours
            )
        withdrawn = at <= now and rng.random() < mix.staff_step_withdrawal
        if withdrawn:
            at = entered + (at - entered) * rng.uniform(0.1, 0.9)
        end = min(at, now)

        owners = org.officials.get(spec.owner, ())
        boss_role = next((role for role in spec.chain if org.officials.get(role)), None)
        actor: Official | None = rng.choice(owners) if owners else None
        if boss_role is not None and actor is not None and rng.random() < mix.assign:
            when = entered + (end - entered) * rng.uniform(0.01, 0.2)
            boss = rng.choice(org.officials[boss_role])
            step.assignee_id = actor.id
            app.updated_at = when
            self._event(
                app,
                ASSIGNED,
                when,
                step,
                boss.id,
                boss.role,
                visibility=INTERNAL,
                data={"assignee": actor.id, "assignee_name": actor.name},
            )
        elif boss_role is not None and rng.random() < mix.supervisor_acts:
            actor = rng.choice(org.officials[boss_role])
        self._escalate(app, step, spec, end)
        self._talk(app, step, end, actor, boss_role)
        if at > now:
            if spec.requires and actor is not None and rng.random() < 0.2:
                when = entered + (now - entered) * rng.uniform(0.3, 0.95)
                self._documents(app, step, spec.requires, actor, when)
            return None
        if withdrawn:
            return self._withdrawal(app, at)
        choice = self._choose(app.plan.steps, spec, moves, returns, backs)
        if choice is None:
            return None  # only the system could move it, and it never does: stays open
        documents = spec.requires
        if documents and actor is not None and rng.random() < mix.separate_documents:
            self._documents(app, step, documents, actor, entered + (at - entered) * 0.8)
            documents = ()
        return Decision(
            at,
            choice.name,
            choice.to,
            actor.id if actor else None,
            actor.role if actor else spec.owner,
            ACTION,
            text=self._comment(choice),
            documents=documents,
            uploader=actor.id if actor else None,
            move=choice.kind,
        )

    def _withdrawal(self, app: ApplicationRow, at: datetime) -> Decision:
        reason = self.rng.choice(texts.WITHDRAW)
        return Decision(
            at, "", WITHDRAWN, app.citizen_id, CITIZEN, WITHDRAWN_KIND, reason, move="withdraw"
        )

    def _citizen_turn(self, app: ApplicationRow, step: StepRow, spec: StepPlan) -> Decision | None:
        rng, mix, now = self.rng, self.mix, self.now
        entered, due = step.entered_at, step.due_at
        span = (due - entered) if due is not None else 10 * _DAY
        luck = rng.random()
        if luck < mix.citizen_withdraws:
            decision = self._withdrawal(app, self._awake(entered + span * rng.uniform(0.05, 0.9)))
        elif luck < mix.citizen_withdraws + mix.citizen_ignores or not spec.choices:
            return self._time_out(app, step, spec)
        else:
            at = self._awake(
                entered + span * rng.betavariate(1.3, 3.5) + rng.uniform(5, 60) * _MINUTE
            )
            choice = rng.choices(spec.choices, [c.weight for c in spec.choices])[0]
            documents: tuple[str, ...] = ()
            corrected = not spec.fee and app.plan.submission_documents
            if corrected and rng.random() < mix.corrected_document:
                documents = (rng.choice(app.plan.submission_documents)[0],)
            text = ""
            if choice.comment_required or rng.random() < 0.6:
                text = rng.choice(texts.RESUBMIT)
            decision = Decision(
                at,
                choice.name,
                choice.to,
                app.citizen_id,
                CITIZEN,
                ACTION if spec.fee else RESUBMITTED,
                text=text,
                documents=documents,
                uploader=app.citizen_id,
                move=choice.kind,
            )
        if due is not None and spec.timeout and decision.at > due:
            return self._time_out(app, step, spec)  # the worker was first
        if rng.random() < mix.question:
            end = min(decision.at, now)
            if end > entered:
                when = entered + (end - entered) * rng.uniform(0.1, 0.9)
                self._comment_event(
                    app, step, when, app.citizen_id, CITIZEN, texts.CITIZEN_QUESTION
                )
        return decision if decision.at <= now else None

    def _time_out(self, app: ApplicationRow, step: StepRow, spec: StepPlan) -> Decision | None:
        """The worker's timeout action, a few minutes after the step falls due; None while
        it is not due yet, or when the step has no timeout (it waits on the citizen)."""
        due = step.due_at
        if due is None or spec.timeout is None or due > self.now:
            return None
        at = min(due + self.rng.uniform(1, 20) * _MINUTE, self.now)
        return Decision(at, spec.timeout, spec.timeout_to, None, SYSTEM, ACTION, move="timeout")

    def _choose(
        self, steps: Mapping[str, StepPlan], spec: StepPlan, moves: int, returns: int, backs: int
    ) -> Choice | None:
        choices = spec.choices
        if not choices:
            return None
        if moves >= self.mix.max_moves:
            return min(choices, key=lambda c: steps[c.to].distance)
        weights = [
            c.weight
            * (0.25**returns if c.kind == "return" else 1.0)
            * (0.25**backs if c.kind == "back" else 1.0)
            for c in choices
        ]
        return self.rng.choices(choices, weights)[0]

    # -- what happens during a visit

    def _escalate(self, app: ApplicationRow, step: StepRow, spec: StepPlan, end: datetime) -> None:
        """As the worker's escalate_late_steps: one level up the chain when the step falls
        due, and one more for each further timeline, while the step is open."""
        if step.due_at is None or spec.sla is None or not spec.chain:
            return
        calendar = app.plan.org.calendar
        moment = step.due_at
        level = 0
        while level < len(spec.chain):
            at = moment + self.rng.uniform(1, 10) * _MINUTE
            if at >= end:
                break
            level += 1
            self._event(
                app,
                ESCALATED,
                at,
                step,
                None,
                SYSTEM,
                from_state=step.state,
                to_state=step.state,
                visibility=INTERNAL,
                data={
                    "level": level,
                    "to_role": spec.chain[level - 1],
                    "owner_role": spec.owner,
                    "due_at": step.due_at.astimezone(UTC).isoformat(),
                },
            )
            moment = calendar.due_at(moment, spec.sla)
        step.escalation_level = level
        if level < len(spec.chain):
            step.escalate_at = moment  # the timers' next look at it, as they leave it

    def _talk(
        self,
        app: ApplicationRow,
        step: StepRow,
        end: datetime,
        official: Official | None,
        boss_role: str | None,
    ) -> None:
        """Comments while officials hold the step: the citizen chasing a late step and an
        official answering, internal notes, a question."""
        rng, mix = self.rng, self.mix
        entered, due = step.entered_at, step.due_at
        if end <= entered:
            return
        if due is not None and end > due and rng.random() < mix.follow_up:
            asked = due + (end - due) * rng.uniform(0.1, 0.8)
            self._comment_event(app, step, asked, app.citizen_id, CITIZEN, texts.CITIZEN_FOLLOW_UP)
            if official is not None and rng.random() < mix.reply:
                answered = asked + (end - asked) * rng.uniform(0.05, 0.6)
                self._comment_event(
                    app, step, answered, official.id, official.role, texts.OFFICIAL_REPLY
                )
        if official is not None and rng.random() < mix.internal_note:
            writer = official
            if boss_role is not None and rng.random() < 0.4:
                writer = rng.choice(app.plan.org.officials[boss_role])
            when = entered + (end - entered) * rng.uniform(0.05, 0.95)
            self._comment_event(
                app, step, when, writer.id, writer.role, texts.INTERNAL_NOTE, internal=True
            )
        if rng.random() < mix.question:
            when = entered + (end - entered) * rng.uniform(0.05, 0.95)
            self._comment_event(app, step, when, app.citizen_id, CITIZEN, texts.CITIZEN_QUESTION)

    def _documents(
        self,
        app: ApplicationRow,
        step: StepRow,
        codes: tuple[str, ...],
        actor: Official,
        at: datetime,
    ) -> None:
        event = self._event(
            app, DOCUMENTS, at, step, actor.id, actor.role, data={"documents": sorted(codes)}
        )
        for code in codes:
            self._attach(app, event, code, actor.id, at - self.rng.uniform(1, 30) * _MINUTE)

    def _comment(self, choice: Choice) -> str:
        if not choice.comment_required and self.rng.random() >= self.mix.optional_comment:
            return ""
        pool = {
            "return": texts.RETURN,
            "reject": texts.REJECT,
            "back": texts.REDO,
            "finish": texts.RESOLVE,
            "drop": texts.WITHDRAW,
        }.get(choice.kind, texts.FORWARD)
        return self.rng.choice(pool) or "Closed."

    def _comment_event(
        self,
        app: ApplicationRow,
        step: StepRow,
        at: datetime,
        actor: int,
        role: str,
        pool: tuple[str, ...],
        *,
        internal: bool = False,
    ) -> None:
        self._event(
            app,
            COMMENT,
            at,
            step,
            actor,
            role,
            text=self.rng.choice(pool),
            visibility=INTERNAL if internal else PUBLIC,
        )

    # -- rows

    def _event(
        self,
        app: ApplicationRow,
        kind: str,
        at: datetime,
        step: StepRow | None,
        actor: int | None,
        role: str,
        **fields: Any,
    ) -> EventRow:
        event = EventRow(next(self.seq), kind, at, step, actor, role, **fields)
        app.events.append(event)
        return event

    def _attach(
        self, app: ApplicationRow, event: EventRow, code: str, uploader: int, at: datetime
    ) -> None:
        rng = self.rng
        image = "photo" in code
        app.attachments.append(
            AttachmentRow(
                uuid=UUID(int=rng.getrandbits(128), version=4),
                uploaded_by=uploader,
                event=event,
                requirement=code,
                file=PLACEHOLDER_IMAGE if image else PLACEHOLDER_PDF,
                filename=f"{code}.png" if image else f"{code}.pdf",
                content_type="image/png" if image else "application/pdf",
                size=rng.randint(150_000, 3_000_000) if image else rng.randint(40_000, 2_500_000),
                sha256=f"{rng.getrandbits(256):064x}",
                created_at=at,
            )
        )

    def _finish(self, app: ApplicationRow) -> None:
        """Ids in timeline order (the timeline is read by id)."""
        app.events.sort(key=lambda e: (e.created_at, e.seq))
        for event in app.events:
            event.id = next(self.event_ids)
        for attachment in app.attachments:
            attachment.id = next(self.attachment_ids)

    # -- form data

    def _form(self, plan: ServicePlan) -> tuple[dict[str, Any], dict[str, Any] | None]:
        rng = self.rng
        data: dict[str, Any] = {}
        for spec in plan.fields:
            if not spec.get("required") and rng.random() < 0.5:
                continue
            data[spec["key"]] = self._value(spec, plan)
        location = data.get(plan.location_field) if plan.location_field else None
        return data, location

    def _value(self, spec: dict[str, Any], plan: ServicePlan) -> Any:
        rng = self.rng
        kind, key = spec.get("type"), spec["key"]
        if kind == "number":
            low, high = int(spec.get("min") or 1), int(spec.get("max") or 100)
            return str(rng.randint(low, max(low, high)))
        if kind == "choice":
            return rng.choice(spec["choices"])["value"]
        if kind == "multi_choice":
            values = [choice["value"] for choice in spec["choices"]]
            return rng.sample(values, min(len(values), rng.randint(1, 2)))
        if kind == "date":
            return (self.now.date() - timedelta(days=rng.randint(1, 365))).isoformat()
        if kind == "phone":
            return f"+923{rng.randint(0, 499_999_999):09d}"
        if kind == "cnic":
            return cnic(rng)
        if kind == "location":
            lat, lng = plan.org.centre
            point: dict[str, Any] = {
                "lat": round(lat + rng.gauss(0, 0.02), 6),
                "lng": round(lng + rng.gauss(0, 0.02), 6),
            }
            if rng.random() < 0.5:
                point["address"] = rng.choice(texts.PHRASES)
            return point
        if kind == "text" and "name" in key:
            return person_name(rng)
        if kind == "text" and ("number" in key or key.endswith("_no")):
            return str(rng.randint(1000, 9_999_999))
        if kind == "long_text":
            return f"{rng.choice(texts.PHRASES)}, house {rng.randint(1, 400)}"
        return rng.choice(texts.PHRASES)

    # -- times of day

    def _staff_time(self, calendar: WorkCalendar, moment: datetime, *, hours: bool) -> datetime:
        """Officials act in office hours on working days (crews on hourly timelines work
        from 7 to 22 every day)."""
        if hours:
            return self._awake(moment, 7, 22)
        rng = self.rng
        day = moment.date()
        if calendar.is_working_day(day):
            if 9 <= moment.hour < 17:
                return moment
            if moment.hour < 9:
                return moment.replace(hour=9, minute=rng.randrange(60), second=rng.randrange(60))
        day += _DAY
        while not calendar.is_working_day(day):
            day += _DAY
        clock = time(9 + rng.randrange(3), rng.randrange(60), rng.randrange(60))
        return datetime.combine(day, clock, tzinfo=moment.tzinfo)

    def _awake(self, moment: datetime, first: int = 7, last: int = 23) -> datetime:
        """Citizens act between 7 and 23."""
        rng = self.rng
        if first <= moment.hour < last:
            return moment
        if moment.hour < first:
            return moment.replace(hour=first, minute=rng.randrange(60), second=rng.randrange(60))
        clock = time(first + rng.randrange(2), rng.randrange(60), rng.randrange(60))
        return datetime.combine(moment.date() + _DAY, clock, tzinfo=moment.tzinfo)
