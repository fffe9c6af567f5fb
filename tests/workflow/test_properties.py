"""Properties over generated process specs and calendar instants."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ocsc.workflow import (
    SYSTEM,
    ActionRefused,
    Process,
    WorkCalendar,
    allowed_actions,
    apply,
    category,
    parse_process,
)

from .specs import CHART, OWNERS, REQUIREMENTS, ROLES, process_specs

FEW = settings(max_examples=150, deadline=None)
PERSONAS = [frozenset({owner}) for owner in OWNERS] + [frozenset({SYSTEM})]


def reach(process: Process, start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for action in process.steps[todo.pop()].actions.values():
            if action.to not in seen:
                seen.add(action.to)
                todo.append(action.to)
    return seen


@FEW
@given(process_specs())
def test_generated_specs_pass_and_every_reachable_step_can_end(spec: dict[str, Any]) -> None:
    process, problems = parse_process(spec, roles=ROLES, requirements=REQUIREMENTS)
    assert [p for p in problems if p.level == "error"] == []
    assert process is not None
    for code in reach(process, process.start):
        step = process.steps[code]
        assert step.terminal or step.actions
        assert any(process.steps[c].terminal for c in reach(process, code))
    assert Process.model_validate(process.model_dump()) == process


@FEW
@given(process_specs(), st.data())
def test_a_mistake_is_reported_at_its_path(spec: dict[str, Any], data: st.DataObject) -> None:
    steps = spec["steps"]
    code = data.draw(st.sampled_from([c for c, s in steps.items() if "outcome" not in s]))
    step = steps[code]
    mistake = data.draw(st.sampled_from(["target", "start", "owner", "requires", "dead", "loose"]))
    if mistake == "target":
        name = data.draw(st.sampled_from(sorted(step["actions"])))
        step["actions"][name]["to"] = "nowhere"
        expected = f"process.steps.{code}.actions.{name}.to"
    elif mistake == "start":
        spec["start"] = "nowhere"
        expected = "process.start"
    elif mistake == "owner":
        step["owner"] = "nobody"
        expected = f"process.steps.{code}.owner"
    elif mistake == "requires":
        step["requires"] = [*step.get("requires", []), "nothing"]
        expected = f"process.steps.{code}.requires[{len(step['requires']) - 1}]"
    elif mistake == "dead":
        steps["done"] = {}
        expected = "process.steps.done"
    else:
        steps["loose"] = {"owner": "tmo", "actions": {"go": {"to": "done"}}}
        expected = "process.steps.loose"
    process, problems = parse_process(spec, roles=ROLES, requirements=REQUIREMENTS)
    assert process is None
    assert expected in [p.path for p in problems if p.level == "error"]


@FEW
@given(process_specs(), st.data())
def test_walking_a_process(spec: dict[str, Any], data: st.DataObject) -> None:
    process = Process.model_validate(spec)
    state = process.start
    for _ in range(12):
        step = process.steps[state]
        if step.terminal:
            assert category(process, state).startswith("closed")
            assert all(not allowed_actions(process, state, roles=p, chart=CHART) for p in PERSONAS)
            return
        assert step.owner is not None
        able = []
        for roles in PERSONAS:
            allowed = allowed_actions(process, state, roles=roles, chart=CHART)
            if SYSTEM not in roles:  # every generated step has an owner's action
                assert bool(allowed) == CHART.may_act(roles, step.owner)
            for action in step.actions:
                try:
                    apply(process, state=state, action=action, roles=roles, chart=CHART,
                          comment="ok", attached=step.requires)  # fmt: skip
                except ActionRefused as refused:
                    assert action not in allowed
                    assert refused.code == "not_allowed"
                else:
                    assert action in allowed
            able += [(roles, action) for action in allowed]
        roles, action = data.draw(st.sampled_from(able))
        move = apply(process, state=state, action=action, roles=roles, chart=CHART,
                     comment="ok", attached=step.requires)  # fmt: skip
        assert move.to_state in process.steps
        assert move.category == category(process, move.to_state)
        assert move.outcome == process.steps[move.to_state].outcome
        state = move.to_state


KEYS = ["start", "steps", "sla", "owner", "actions", "to", "outcome", "timeout", "action", "by",
        "comment", "requires", "name", "fee", "en", "w0", "done"]  # fmt: skip
leaves = (
    st.none() | st.booleans() | st.integers(-3, 30) | st.floats(allow_nan=False)
    | st.text(max_size=4)
    | st.sampled_from(["15d", "2h", "0d", "w0", "done", "citizen", "approved", "system"])
)  # fmt: skip
junk = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=20,
)


@FEW
@given(junk)
def test_parse_process_reports_junk_and_never_raises(data: object) -> None:
    process, problems = parse_process(data, roles=ROLES, requirements=REQUIREMENTS)
    errors = [p for p in problems if p.level == "error"]
    assert (process is None) == bool(errors)
    assert all(p.path.startswith("process") and p.message for p in problems)


@FEW
@given(process_specs(), st.data())
def test_junk_inside_a_valid_spec_is_reported(spec: dict[str, Any], data: st.DataObject) -> None:
    code = data.draw(st.sampled_from(sorted(spec["steps"])))
    field = data.draw(st.sampled_from([*KEYS[2:13], "colour"]))
    spec["steps"][code][field] = data.draw(junk)
    process, problems = parse_process(spec, roles=ROLES, requirements=REQUIREMENTS)
    assert (process is None) == any(p.level == "error" for p in problems)


# -- the calendar

PKT = ZoneInfo("Asia/Karachi")
ZERO = timedelta(0)
CALENDARS = [
    WorkCalendar(workweek=frozenset(range(5))),
    WorkCalendar(workweek=frozenset({6, 0, 1, 2, 3}), extra=frozenset({date(2026, 1, 14)})),
    WorkCalendar(workweek=frozenset(range(6)), country="GB", tz="Europe/London"),  # has DST
]
calendars = st.sampled_from(CALENDARS)
moments = st.builds(
    lambda minutes, zone: (
        datetime(2025, 1, 1, tzinfo=PKT) + timedelta(minutes=minutes)
    ).astimezone(zone),
    st.integers(0, 3 * 365 * 24 * 60),
    st.sampled_from([PKT, UTC]),
)
spans = st.integers(0, 40 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes))


@FEW
@given(calendars, moments, st.integers(0, 30))
def test_due_dates_fall_on_working_days(cal: WorkCalendar, start: datetime, days: int) -> None:
    due = cal.add_working_days(start, days)
    assert cal.is_working_day(due)
    assert due >= start
    if cal.is_working_day(start):
        assert cal.working_time(start, due) == timedelta(days=days)
        # the same point in working time (add_working_time gives the earliest such instant)
        assert cal.working_time(cal.add_working_time(start, timedelta(days=days)), due) == ZERO


@FEW
@given(calendars, moments, moments, st.integers(0, 20), st.integers(0, 20))
def test_add_working_days_is_monotonic(
    cal: WorkCalendar, first: datetime, second: datetime, days: int, more: int
) -> None:
    first, second = sorted([first, second])
    assert cal.add_working_days(first, days) <= cal.add_working_days(second, days)
    assert cal.add_working_days(first, days) < cal.add_working_days(first, days + more + 1)


@FEW
@given(calendars, moments, spans)
def test_add_working_time_is_the_earliest_inverse(
    cal: WorkCalendar, start: datetime, span: timedelta
) -> None:
    end = cal.add_working_time(start, span)
    assert cal.working_time(start, end) == span
    if span:
        assert cal.working_time(start, end - timedelta(minutes=1)) < span


@FEW
@given(calendars, moments, spans, spans)
def test_working_time_adds_up(
    cal: WorkCalendar, start: datetime, one: timedelta, two: timedelta
) -> None:
    middle, end = start + one, start + one + two
    assert cal.working_time(start, end) == cal.working_time(start, middle) + cal.working_time(
        middle, end
    )
    assert cal.working_time(start, end) <= end - start


@FEW
@given(calendars, moments, st.integers(1, 15), spans, spans)
def test_a_pause_gives_back_the_time_it_took(
    cal: WorkCalendar, entered: datetime, days: int, before: timedelta, pause: timedelta
) -> None:
    due = cal.add_working_days(entered, days)
    paused_from = entered + before
    paused_to = paused_from + pause
    extended = cal.extend(due, paused_from, paused_to, "d")
    assert extended >= due
    if paused_from < due:
        assert cal.working_time(paused_to, extended) == cal.working_time(paused_from, due)
        assert cal.is_working_day(extended)
        assert cal.extend(due, paused_from, paused_to, "h") == due + pause
    else:
        assert extended == due
