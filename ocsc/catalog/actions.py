"""Publishing a service's process from the process page, and what comes before it.

`publish_process` is the one write: it checks the text, then adds the next ProcessVersion and
makes it the service's current one. Earlier versions stay as they were: an application keeps
the version it started on. `check_process` and `dry_run` write nothing; they run the same
checks and the same engine, so what the page promises is what publishing does.
"""

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ocsc.accounts.access import administers
from ocsc.accounts.models import User
from ocsc.catalog.loader import Located, _map_lines, digest, line_of
from ocsc.catalog.models import ProcessVersion, Role, Service
from ocsc.catalog.process import role_chart, work_calendar
from ocsc.workflow import (
    CITIZEN,
    SYSTEM,
    ActionRefused,
    Duration,
    Outcome,
    Problem,
    Process,
    Step,
    apply,
    parse_process,
)

logger = logging.getLogger(__name__)

MAX_TEXT = 100_000  # characters: the demo's longest process is under 3,000
# Timelines beyond these are typing mistakes, and would keep the SLA clock counting for ages.
MAX_TIMELINE = {"d": 365, "h": 24 * 365}
MAX_DRY_RUN_ACTIONS = 100


class ProcessInvalid(Exception):
    """The text cannot be published: every problem, each with its path and line."""

    def __init__(self, problems: Sequence[Located]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(
            ngettext("%(count)d problem in the process", "%(count)d problems in the process", count)
            % {"count": count}
        )


class ProcessChanged(Exception):
    """Another version was published since the editor opened (HTTP 409): nothing written."""

    def __init__(self, current: ProcessVersion | None) -> None:
        self.current = current
        super().__init__(
            _(
                "Version %(number)d was published while you were editing. Your text is kept "
                "below: compare it with the current version, then publish again."
            )
            % {"number": current.number if current else 0}
        )


# Checking (writes nothing) ------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A process text as checked: the data as written, the parsed process (None when there
    is any error) and every problem, errors and warnings, in the order of the text."""

    data: dict[str, Any] | None
    process: Process | None
    problems: list[Located]

    @property
    def errors(self) -> list[Located]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Located]:
        return [p for p in self.problems if not p.is_error]


def _read(text: str) -> tuple[Any, dict[str, int], list[Located]]:
    """YAML (or JSON, which YAML reads too) into plain data, lines by path, read problems."""
    if len(text) > MAX_TEXT:
        message = _("the text is too long: at most %(limit)d characters") % {"limit": MAX_TEXT}
        return None, {}, [Located(Problem("process", message), None)]
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):  # one alias can stand for a huge tree
                message = _("write the value out: anchors and aliases (&, *) are not accepted")
                line = event.start_mark.line + 1 if event.start_mark is not None else None
                return None, {}, [Located(Problem("process", message), line)]
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f"{context}: {what}" if context else what
        column = f", column {mark.column + 1}" if mark is not None else ""
        problem = Problem("process", f"not valid YAML{column}: {detail}")
        return None, {}, [Located(problem, mark.line + 1 if mark is not None else None)]
    lines: dict[str, int] = {}
    duplicates: list[Located] = []
    if node is None:
        message = _("write the process: its timeline (sla), its start step and its steps")
        return None, lines, [Located(Problem("process", message), None)]
    # The text is the process itself, or (pasted from a catalog file) `process: {…}`.
    wrapped = isinstance(data, dict) and set(data) == {"process"}
    _map_lines(node, "" if wrapped else "process", lines, duplicates)
    return data["process"] if wrapped else data, lines, duplicates


def _too_long(process: Process) -> list[Problem]:
    timelines: list[tuple[str, Duration]] = []
    if process.sla is not None:
        timelines.append(("process.sla", process.sla))
    for code, step in process.steps.items():
        if step.sla is not None:
            timelines.append((f"process.steps.{code}.sla", step.sla))
    return [
        Problem(
            path,
            _("%(timeline)s is longer than the longest timeline accepted, %(limit)s")
            % {"timeline": sla, "limit": f"{MAX_TIMELINE[sla.unit]}{sla.unit}"},
        )
        for path, sla in timelines
        if sla.amount > MAX_TIMELINE[sla.unit]
    ]


def check_process(service: Service, text: str) -> Draft:
    """Every problem of a process text for `service`: its owners must be roles of the
    organization's kind, its `requires` the service's requirement codes. Writes nothing."""
    data, lines, problems = _read(text)
    if data is None and problems:
        return Draft(None, None, problems)
    roles = Role.objects.filter(kind_id=service.organization.kind_id).values_list("code", flat=True)
    requirements = [requirement["code"] for requirement in service.requirements]
    process, found = parse_process(
        data, path="process", roles=set(roles), requirements=requirements
    )
    if process is not None:
        found.extend(_too_long(process))
    problems += [Located(p, line_of(p.path, lines)) for p in found]
    problems.sort(key=lambda p: p.line or 0)
    if any(p.is_error for p in problems):  # a duplicate key too: YAML keeps only the last
        process = None
    return Draft(data if isinstance(data, dict) else None, process, problems)


# Publishing ---------------------------------------------------------------------------


@transaction.atomic
def publish_process(
    service: Service, *, actor: User, text: str, based_on: int | None = None
) -> ProcessVersion:
    """Publish `text` as the service's next process version and make it current.

    Raises PermissionDenied unless the actor administers the organization, ProcessInvalid
    (every problem; also when nothing changed) and, when `based_on` (the version number the
    author started from, 0 for none) is no longer current, ProcessChanged. Applications in
    flight keep their version; new applications get this one.
    """
    if not administers(actor, organization_id=service.organization_id):
        raise PermissionDenied(_("Only the organization's administrators publish its processes."))
    draft = check_process(service, text)
    if draft.process is None or draft.data is None:
        raise ProcessInvalid(draft.problems)
    # The service row is the lock: two publishers get consecutive numbers, one after the other.
    locked = Service.objects.select_for_update().get(pk=service.pk)
    current = (
        ProcessVersion.objects.get(pk=locked.current_process_id)
        if locked.current_process_id is not None
        else None
    )
    if based_on is not None and (current.number if current else 0) != based_on:
        raise ProcessChanged(current)
    spec_digest = digest(draft.data)
    if current is not None and current.digest == spec_digest:
        message = _("nothing changed: this is version %(number)d as published") % {
            "number": current.number
        }
        raise ProcessInvalid([Located(Problem("process", message), None)])
    latest = ProcessVersion.objects.filter(service=locked).aggregate(last=Max("number"))["last"]
    version = ProcessVersion.objects.create(
        service=locked,
        number=(latest or 0) + 1,
        spec_json=json.dumps(draft.data, ensure_ascii=False),
        digest=spec_digest,
    )
    Service.objects.filter(pk=locked.pk).update(current_process=version)
    service.current_process = version
    logger.info(
        "process published: %s/%s v%d by user %s",
        service.organization.code,
        service.code,
        version.number,
        actor.pk,
    )
    return version


# Dry run (writes nothing) -------------------------------------------------------------


@dataclass
class Visit:
    """One step an imaginary application enters during a dry run."""

    state: str
    step: Step
    entered_at: datetime
    due_at: datetime | None
    days_off: list[tuple[date, str]]  # the days the timeline skips: (day, holiday or "")
    action: str = ""  # the action that left the step, if one did
    left_at: datetime | None = None


@dataclass
class DryRun:
    start: datetime
    timezone: str
    visits: list[Visit] = field(default_factory=list)
    application_due: datetime | None = None  # the whole process; moves while the citizen holds
    outcome: Outcome | None = None
    stopped: str = ""  # why the walk stopped before the chosen actions ran out


def dry_run(service: Service, *, text: str, start: datetime, actions: Sequence[str]) -> DryRun:
    """Walk an imaginary application through `actions` from `start`, on the organization's
    calendar, with the engine alone: every step entered and the due date it would get.
    Each action is taken when its step falls due (at once on a step without a timeline), so
    the dates are the latest that keep within every timeline. Raises ProcessInvalid on a
    text with errors. Writes nothing."""
    draft = check_process(service, text)
    if draft.process is None:
        raise ProcessInvalid(draft.problems)
    process = draft.process
    calendar = work_calendar(service.organization.calendar)
    chart = role_chart(service.organization)
    zone = ZoneInfo(calendar.tz)
    run = DryRun(start=start.astimezone(zone), timezone=calendar.tz)
    if process.sla is not None:
        run.application_due = calendar.due_at(start, process.sla)
    paused_at: datetime | None = None

    def enter(state: str, at: datetime) -> None:
        nonlocal paused_at
        step = process.steps[state]
        if step.terminal:
            run.outcome = step.outcome
            return
        due = calendar.due_at(at, step.sla) if step.sla is not None else None
        days_off: list[tuple[date, str]] = []
        if due is not None and step.sla is not None and step.sla.unit == "d":
            day, last = at.astimezone(zone).date(), due.astimezone(zone).date()
            while day <= last:
                if not calendar.is_working_day(day):
                    days_off.append((day, calendar.holiday_name(day) or ""))
                day += timedelta(days=1)
        run.visits.append(Visit(state, step, at.astimezone(zone), due, days_off))
        if step.owner == CITIZEN and paused_at is None:
            paused_at = at  # the organization's clock stops while the citizen holds it
        elif step.owner != CITIZEN and paused_at is not None:
            if run.application_due is not None and process.sla is not None:
                run.application_due = calendar.extend(
                    run.application_due, paused_at, at, process.sla.unit
                )
            paused_at = None

    enter(process.start, start)
    for name in actions[:MAX_DRY_RUN_ACTIONS]:
        if run.outcome is not None:
            run.stopped = _("The process ended before '%(action)s': it was not taken.") % {
                "action": name
            }
            break
        visit = run.visits[-1]
        chosen = visit.step.actions.get(name)
        roles = {SYSTEM} if chosen is not None and chosen.by == "system" else {visit.step.owner}
        try:
            move = apply(
                process,
                state=visit.state,
                action=name,
                roles={role for role in roles if role},
                chart=chart,
                comment="dry run",
                attached=visit.step.requires,
            )
        except ActionRefused as exc:
            run.stopped = str(exc)
            break
        at = visit.due_at or visit.entered_at
        visit.action, visit.left_at = name, at.astimezone(zone)
        enter(move.to_state, at)
    return run
