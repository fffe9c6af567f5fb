"""Parse and check a process spec, reporting every problem at once, each with its path."""

from collections import deque
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from .spec import CITIZEN, Duration, Process

_MAIN_OUTCOMES = ("approved", "resolved")


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def parse_process(
    data: object,
    *,
    path: str = "process",
    roles: Collection[str] | None = None,
    requirements: Collection[str] | None = None,
) -> tuple[Process | None, list[Problem]]:
    """Validate `data` into a Process; the Process is None when there is any error.

    `roles` and `requirements`, when given, are the codes that owners and `requires` may name.
    """
    try:
        process = Process.model_validate(data)
    except ValidationError as exc:
        return None, [
            Problem(_join(path, error["loc"]), error["msg"].removeprefix("Value error, "))
            for error in exc.errors()
        ]
    problems = list(_check(process, path, roles, requirements))
    if any(problem.level == "error" for problem in problems):
        return None, problems
    return process, problems


def _join(path: str, loc: tuple[int | str, ...]) -> str:
    return path + "".join(f"[{item}]" if isinstance(item, int) else f".{item}" for item in loc)


def _check(
    process: Process,
    path: str,
    roles: Collection[str] | None,
    requirements: Collection[str] | None,
) -> Iterator[Problem]:
    steps = process.steps
    if process.start not in steps:
        yield Problem(f"{path}.start", f"unknown step '{process.start}'")
    for code, step in steps.items():
        at = f"{path}.steps.{code}"
        if step.terminal:
            for field, what in [
                ("actions", "takes no actions"),
                ("owner", "has no owner"),
                ("sla", "has no timeline (sla)"),
                ("timeout", "has no timeout"),
                ("requires", "requires nothing"),
                ("fee", "charges no fee"),
            ]:
                if getattr(step, field):
                    yield Problem(f"{at}.{field}", f"a terminal step (one with an outcome) {what}")
            continue
        if not step.actions:
            yield Problem(
                at,
                "has no actions and no outcome: give it actions, "
                "or an outcome if the process ends here",
            )
        if step.owner is None:
            yield Problem(
                f"{at}.owner", "a step that is not terminal needs an owner (a role, or citizen)"
            )
        elif roles is not None and step.owner != CITIZEN and step.owner not in roles:
            yield Problem(f"{at}.owner", f"unknown role '{step.owner}'")
        if requirements is not None:
            for i, requirement in enumerate(step.requires):
                if requirement not in requirements:
                    yield Problem(f"{at}.requires[{i}]", f"unknown requirement '{requirement}'")
        if step.timeout is not None:
            named = step.actions.get(step.timeout.action)
            if named is None:
                yield Problem(
                    f"{at}.timeout.action",
                    f"unknown action '{step.timeout.action}': the step's actions are "
                    + (", ".join(step.actions) or "none"),
                )
            elif named.by != "system":
                yield Problem(
                    f"{at}.timeout.action",
                    f"the action '{step.timeout.action}' is taken on timeout, "
                    "so it needs by: system",
                )
            if step.sla is None:
                yield Problem(
                    f"{at}.timeout",
                    "a timeout needs a timeline (sla) on its step: it fires when it runs out",
                )
        for name, action in step.actions.items():
            if action.to not in steps:
                yield Problem(f"{at}.actions.{name}.to", f"unknown step '{action.to}'")
            if action.by == "system":
                timeout = step.timeout
                if timeout is None or (timeout.action in step.actions and timeout.action != name):
                    yield Problem(
                        f"{at}.actions.{name}.by",
                        "a system action needs a timeout on its step that names it",
                    )
                if action.comment == "required":
                    yield Problem(
                        f"{at}.actions.{name}.comment", "a system action cannot require a comment"
                    )
    if process.start in steps:
        yield from _check_paths(process, path)


def _check_paths(process: Process, path: str) -> Iterator[Problem]:
    steps = process.steps
    reachable = _reachable(process)
    for code in steps:
        if code not in reachable:
            yield Problem(
                f"{path}.steps.{code}", f"unreachable from the start step '{process.start}'"
            )
    # The steps from which the process can end. A step without actions or with an unknown
    # target is given the benefit of the doubt: it is already reported.
    ends = {
        code
        for code, step in steps.items()
        if step.terminal
        or not step.actions
        or any(a.to not in steps for a in step.actions.values())
    }
    grew = True
    while grew:
        grew = False
        for code, step in steps.items():
            if code not in ends and any(a.to in ends for a in step.actions.values()):
                ends.add(code)
                grew = True
    if process.start not in ends:
        yield Problem(
            f"{path}.start",
            "no terminal step (one with an outcome) can be reached "
            f"from the start step '{process.start}'",
        )
    else:
        for code in steps:
            if code in reachable and code not in ends:
                yield Problem(
                    f"{path}.steps.{code}",
                    "a dead end: no terminal step (one with an outcome) can be reached from here",
                )
    warning = _timeline_warning(process)
    if warning is not None:
        yield Problem(f"{path}.sla", warning, "warning")


def _reachable(process: Process) -> set[str]:
    seen = {process.start}
    queue = deque([process.start])
    while queue:
        for action in process.steps[queue.popleft()].actions.values():
            if action.to in process.steps and action.to not in seen:
                seen.add(action.to)
                queue.append(action.to)
    return seen


def main_path(process: Process, start: str | None = None) -> list[str] | None:
    """The shortest path (fewest steps, ties by spec order) from the start (or `start`) to a
    step whose outcome is approved or resolved; None when there is none."""
    steps = process.steps
    origin = process.start if start is None else start
    if origin not in steps:
        return None
    parent: dict[str, str | None] = {origin: None}
    queue = deque([origin])
    while queue:
        code = queue.popleft()
        if steps[code].outcome in _MAIN_OUTCOMES:
            found: list[str] = []
            node: str | None = code
            while node is not None:
                found.append(node)
                node = parent[node]
            return found[::-1]
        for action in steps[code].actions.values():
            if action.to in steps and action.to not in parent:
                parent[action.to] = code
                queue.append(action.to)
    return None


def _timeline_warning(process: Process) -> str | None:
    path = main_path(process)
    if process.sla is None or path is None:
        return None
    timelines: list[Duration] = []
    for code in path:
        step = process.steps[code]
        if step.sla is not None and step.owner != CITIZEN:  # the citizen's time pauses the clock
            timelines.append(step.sla)
    if all(d.unit == "d" for d in [*timelines, process.sla]):
        total, limit = f"{sum(d.amount for d in timelines)}d", str(process.sla)
        over = sum(d.amount for d in timelines) > process.sla.amount
    else:
        hours = sum(_hours(d) for d in timelines)
        total, limit = f"{hours}h", str(process.sla)
        if process.sla.unit == "d":
            limit += f" ({_hours(process.sla)}h)"
        over = hours > _hours(process.sla)
    if not over:
        return None
    return (
        f"step timelines on the main path add up to {total}, more than the process timeline "
        f"{limit} (main path: {' → '.join(path)})"
    )


def _hours(duration: Duration) -> int:
    return duration.amount * 24 if duration.unit == "d" else duration.amount
