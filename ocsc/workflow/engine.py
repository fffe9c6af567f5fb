"""Pure functions over a Process: categories, who may act, and applying an action."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from .spec import CITIZEN, SYSTEM, Outcome, Process, Step


class Category(StrEnum):
    """The few fixed categories code and dashboards reason about, whatever the step names."""

    OPEN = "open"
    WAITING_CITIZEN = "waiting_citizen"
    CLOSED_OK = "closed_ok"
    CLOSED_REJECTED = "closed_rejected"
    CLOSED_WITHDRAWN = "closed_withdrawn"


_CLOSED: dict[Outcome, Category] = {
    "approved": Category.CLOSED_OK,
    "resolved": Category.CLOSED_OK,
    "rejected": Category.CLOSED_REJECTED,
    "withdrawn": Category.CLOSED_WITHDRAWN,
}


def _step(process: Process, state: str) -> Step:
    try:
        return process.steps[state]
    except KeyError:
        raise ValueError(
            f"unknown state '{state}': the process has the steps {', '.join(process.steps)}"
        ) from None


def category(process: Process, state: str) -> Category:
    step = _step(process, state)
    if step.outcome is not None:
        return _CLOSED[step.outcome]
    return Category.WAITING_CITIZEN if step.owner == CITIZEN else Category.OPEN


@dataclass(frozen=True)
class RoleChart:
    """Who reports to whom, within an organization kind: role → its supervisor (None at the top)."""

    reports_to: Mapping[str, str | None] = field(default_factory=dict)

    def chain(self, role: str) -> list[str]:
        """The supervisors of `role`, nearest first (stopping if the chart has a cycle)."""
        chain: list[str] = []
        seen = {role}
        boss = self.reports_to.get(role)
        while boss is not None and boss not in seen:
            chain.append(boss)
            seen.add(boss)
            boss = self.reports_to.get(boss)
        return chain

    def may_act(self, roles: Collection[str], owner: str) -> bool:
        """Whether a holder of `roles` may act on a step owned by `owner`: the owner itself or
        any of its supervisors, direct or indirect. Only the citizen acts on a citizen's step."""
        if owner == CITIZEN:
            return CITIZEN in roles
        return owner in roles or any(boss in roles for boss in self.chain(owner))


def allowed_actions(
    process: Process, state: str, *, roles: Collection[str], chart: RoleChart
) -> list[str]:
    """The actions (in spec order) a holder of `roles` may take now.

    The system (`roles` containing SYSTEM) takes only the `by: system` actions, and only it.
    """
    step = _step(process, state)
    if step.terminal:
        return []
    if SYSTEM in roles:
        return [name for name, action in step.actions.items() if action.by == "system"]
    if step.owner is None or not chart.may_act(roles, step.owner):
        return []
    return [name for name, action in step.actions.items() if action.by == "owner"]


def timeout_action(process: Process, state: str) -> str | None:
    """The action the system takes when the step's timeline runs out, if any."""
    timeout = _step(process, state).timeout
    return None if timeout is None else timeout.action


RefusalCode = Literal[
    "unknown_state", "closed", "unknown_action", "not_allowed", "comment_required",
    "documents_missing",
]  # fmt: skip


class ActionRefused(Exception):
    """An action that may not be taken; `code` says why, str(exc) says it to a person."""

    def __init__(self, code: RefusalCode, message: str, *, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code: RefusalCode = code
        self.message = message
        self.missing = missing  # the requirement codes not attached, for documents_missing


@dataclass(frozen=True)
class Move:
    action: str
    from_state: str
    to_state: str
    outcome: Outcome | None
    category: Category  # of to_state


def apply(
    process: Process,
    *,
    state: str,
    action: str,
    roles: Collection[str],
    chart: RoleChart,
    comment: str = "",
    attached: Collection[str] = (),
) -> Move:
    """Check that `action` may be taken now and say where it leads; raises ActionRefused.

    A step's `requires` must all be in `attached` before an owner leaves it; the system's
    timeout actions are not held back by missing documents.
    """
    step = process.steps.get(state)
    if step is None:
        raise ActionRefused("unknown_state", f"the process has no step '{state}'")
    if step.terminal:
        raise ActionRefused(
            "closed", f"the application is closed ({step.outcome}): no action can be taken"
        )
    spec = step.actions.get(action)
    if spec is None:
        raise ActionRefused(
            "unknown_action",
            f"'{action}' is not an action of the step '{state}'; "
            f"its actions are: {', '.join(step.actions)}",
        )
    if action not in allowed_actions(process, state, roles=roles, chart=chart):
        if spec.by == "system":
            reason = f"'{action}' is taken only by the system, when the step's timeline runs out"
        elif SYSTEM in roles:
            reason = f"the system takes only timeout actions, and '{action}' is not one"
        elif step.owner == CITIZEN:
            reason = f"the step '{state}' waits on the citizen: only the applicant may act"
        else:
            reason = f"the step '{state}' is owned by the role '{step.owner}' (or its supervisors)"
        raise ActionRefused("not_allowed", reason)
    if spec.comment == "required" and not comment.strip():
        raise ActionRefused("comment_required", f"'{action}' needs a comment saying why")
    missing = tuple(code for code in step.requires if code not in attached)
    if missing and spec.by == "owner":
        raise ActionRefused(
            "documents_missing",
            f"attach {', '.join(missing)} before leaving the step '{state}'",
            missing=missing,
        )
    target = _step(process, spec.to)
    return Move(
        action=action,
        from_state=state,
        to_state=spec.to,
        outcome=target.outcome,
        category=category(process, spec.to),
    )
