from typing import Any

import pytest

from ocsc.workflow import Problem, main_path, parse_process

from .specs import REQUIREMENTS, ROLES, water_connection


def errors(data: object, **kwargs: Any) -> list[str]:
    process, problems = parse_process(data, roles=ROLES, requirements=REQUIREMENTS, **kwargs)
    assert process is None
    return [str(p) for p in problems if p.level == "error"]


def test_the_design_example_is_valid() -> None:
    process, problems = parse_process(water_connection(), roles=ROLES, requirements=REQUIREMENTS)
    assert problems == []
    assert process is not None
    assert process.start == "scrutiny"


def test_problem_reads_as_path_and_message() -> None:
    problem = Problem("process.start", "unknown step 'x'", "warning")
    assert str(problem) == "process.start: unknown step 'x'"


# -- the structural stage (pydantic), with paths


def test_structure_errors_carry_the_full_path() -> None:
    spec = water_connection()
    spec["steps"]["approval"]["actions"]["approve"]["comment"] = "mandatory"
    spec["steps"]["approval"]["actions"]["approve"]["colour"] = "green"
    spec["steps"]["site_inspection"]["requires"] = ["inspection_report", 7]
    spec["sla"] = "15 days"
    problems = errors(spec, path="services[3].process")
    assert problems == [
        "services[3].process.sla: '15 days' is not a timeline: write 15d (working days) "
        "or 24h (clock hours)",
        "services[3].process.steps.site_inspection.requires[1]: Input should be a valid string",
        "services[3].process.steps.approval.actions.approve.comment: "
        "Input should be 'required' or 'optional'",
        "services[3].process.steps.approval.actions.approve.colour: Extra inputs are not permitted",
    ]


def test_missing_start_and_bad_labels() -> None:
    spec = water_connection()
    del spec["start"]
    spec["steps"]["scrutiny"]["name"] = {"ur": "جانچ پڑتال"}
    assert errors(spec) == [
        "process.start: Field required",
        "process.steps.scrutiny.name: an English text ('en') is required",
    ]


@pytest.mark.parametrize("junk", [None, [], "process", 3, {"steps": []}])
def test_junk_is_reported_not_raised(junk: object) -> None:
    problems = errors(junk)
    assert problems
    assert all(p.startswith("process") for p in problems)


# -- the semantic stage, one rule at a time


def test_unknown_start() -> None:
    spec = water_connection()
    spec["start"] = "scrutinty"
    assert errors(spec) == ["process.start: unknown step 'scrutinty'"]


def test_unknown_target() -> None:
    spec = water_connection()
    spec["steps"]["approval"]["actions"]["approve"]["to"] = "payement"
    assert errors(spec) == [
        "process.steps.approval.actions.approve.to: unknown step 'payement'",
        # payment is only reached through approve
        "process.steps.payment: unreachable from the start step 'scrutiny'",
        "process.steps.payment_check: unreachable from the start step 'scrutiny'",
        "process.steps.installation: unreachable from the start step 'scrutiny'",
        "process.steps.connected: unreachable from the start step 'scrutiny'",
    ]


def test_unreachable_step() -> None:
    spec = water_connection()
    spec["steps"]["appeal"] = {"owner": "tmo", "actions": {"allow": {"to": "approval"}}}
    assert errors(spec) == ["process.steps.appeal: unreachable from the start step 'scrutiny'"]


def test_a_step_without_actions_or_outcome_gets_one_message() -> None:
    spec = water_connection()
    spec["steps"]["installation"]["actions"] = {}
    assert errors(spec) == [
        "process.steps.installation: has no actions and no outcome: give it actions, "
        "or an outcome if the process ends here",
        "process.steps.connected: unreachable from the start step 'scrutiny'",
    ]


def test_a_working_step_needs_an_owner() -> None:
    spec = water_connection()
    del spec["steps"]["installation"]["owner"]
    assert errors(spec) == [
        "process.steps.installation.owner: a step that is not terminal needs an owner "
        "(a role, or citizen)"
    ]


def test_terminal_steps_take_no_actions_owner_or_timeline() -> None:
    spec = water_connection()
    spec["steps"]["connected"].update(owner="clerk", sla="1d", actions={"undo": {"to": "scrutiny"}})
    assert errors(spec) == [
        f"process.steps.connected.{field}: a terminal step (one with an outcome) {what}"
        for field, what in [
            ("actions", "takes no actions"),
            ("owner", "has no owner"),
            ("sla", "has no timeline (sla)"),
        ]
    ]


def test_unknown_role_and_requirement() -> None:
    spec = water_connection()
    spec["steps"]["approval"]["owner"] = "xen"
    spec["steps"]["site_inspection"]["requires"] = ["inspection_report", "site_plan"]
    assert errors(spec) == [
        "process.steps.site_inspection.requires[1]: unknown requirement 'site_plan'",
        "process.steps.approval.owner: unknown role 'xen'",
    ]


def test_roles_and_requirements_are_unchecked_when_not_given() -> None:
    spec = water_connection()
    spec["steps"]["approval"]["owner"] = "xen"
    process, problems = parse_process(spec)
    assert process is not None
    assert problems == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"timeout": {"action": "expire"}},
            "process.steps.correction.timeout.action: unknown action 'expire': "
            "the step's actions are resubmit, lapse",
        ),
        (
            {"timeout": {"action": "resubmit"}},
            "process.steps.correction.timeout.action: the action 'resubmit' is taken on timeout, "
            "so it needs by: system",
        ),
    ],
)
def test_timeout_names_a_system_action_of_its_step(change: dict[str, Any], expected: str) -> None:
    spec = water_connection()
    spec["steps"]["correction"].update(change)
    assert expected in errors(spec)


def test_timeout_needs_a_timeline() -> None:
    spec = water_connection()
    del spec["steps"]["correction"]["sla"]
    assert errors(spec) == [
        "process.steps.correction.timeout: a timeout needs a timeline (sla) on its step: "
        "it fires when it runs out"
    ]


def test_a_system_action_needs_a_timeout_naming_it() -> None:
    spec = water_connection()
    del spec["steps"]["correction"]["timeout"]
    assert errors(spec) == [
        "process.steps.correction.actions.lapse.by: a system action needs a timeout on its step "
        "that names it"
    ]


def test_a_system_action_takes_no_required_comment() -> None:
    spec = water_connection()
    spec["steps"]["correction"]["actions"]["lapse"]["comment"] = "required"
    assert errors(spec) == [
        "process.steps.correction.actions.lapse.comment: a system action cannot require a comment"
    ]


def test_terminal_steps_take_no_requirements_or_fee() -> None:
    spec = water_connection()
    spec["steps"]["rejected"].update(requires=["cnic"], fee=True, timeout={"action": "x"})
    assert errors(spec) == [
        f"process.steps.rejected.{field}: a terminal step (one with an outcome) {what}"
        for field, what in [
            ("timeout", "has no timeout"),
            ("requires", "requires nothing"),
            ("fee", "charges no fee"),
        ]
    ]


def test_a_citizen_step_with_a_timeline_needs_no_timeout() -> None:
    spec = water_connection()
    spec["steps"]["payment"]["sla"] = "30d"
    process, problems = parse_process(spec, roles=ROLES)
    assert process is not None
    assert problems == []


def test_no_terminal_step_reachable() -> None:
    spec = {
        "start": "a",
        "steps": {
            "a": {"owner": "clerk", "actions": {"on": {"to": "b"}}},
            "b": {"owner": "tmo", "actions": {"back": {"to": "a"}}},
        },
    }
    assert errors(spec) == [
        "process.start: no terminal step (one with an outcome) can be reached "
        "from the start step 'a'"
    ]


def test_a_loop_without_exit_is_a_dead_end() -> None:
    spec = water_connection()
    spec["steps"]["installation"]["actions"]["survey"] = {"to": "survey"}
    spec["steps"]["survey"] = {"owner": "sub_engineer", "actions": {"redo": {"to": "resurvey"}}}
    spec["steps"]["resurvey"] = {"owner": "to_infra", "actions": {"back": {"to": "survey"}}}
    assert errors(spec) == [
        f"process.steps.{step}: a dead end: no terminal step (one with an outcome) "
        "can be reached from here"
        for step in ["survey", "resurvey"]
    ]


def test_a_spec_with_several_mistakes_reports_all_of_them() -> None:
    spec = water_connection()
    spec["start"] = "srutiny"
    steps = spec["steps"]
    steps["scrutiny"]["owner"] = "clark"
    steps["approval"]["actions"]["approve"]["to"] = "payement"
    steps["site_inspection"]["requires"] = ["inspection_reprot"]
    steps["correction"]["timeout"] = {"action": "lapsed"}
    steps["payment_check"]["actions"] = {}
    steps["connected"]["owner"] = "sub_engineer"
    assert errors(spec) == [
        "process.start: unknown step 'srutiny'",
        "process.steps.scrutiny.owner: unknown role 'clark'",
        "process.steps.correction.timeout.action: unknown action 'lapsed': "
        "the step's actions are resubmit, lapse",
        "process.steps.site_inspection.requires[0]: unknown requirement 'inspection_reprot'",
        "process.steps.approval.actions.approve.to: unknown step 'payement'",
        "process.steps.payment_check: has no actions and no outcome: give it actions, "
        "or an outcome if the process ends here",
        "process.steps.connected.owner: a terminal step (one with an outcome) has no owner",
    ]


# -- the timeline warning


def test_step_timelines_beyond_the_process_timeline_warn() -> None:
    spec = water_connection()
    spec["steps"]["installation"]["sla"] = "9d"
    process, problems = parse_process(spec, roles=ROLES)
    assert process is not None  # a warning does not stop publishing
    assert [(p.path, p.level) for p in problems] == [("process.sla", "warning")]
    assert problems[0].message == (
        "step timelines on the main path add up to 17d, more than the process timeline 15d "
        "(main path: scrutiny → site_inspection → approval → payment → payment_check → "
        "installation → connected)"
    )


def test_the_citizens_time_does_not_count() -> None:
    spec = water_connection()
    spec["steps"]["payment"]["sla"] = "30d"  # owned by the citizen: the clock pauses
    spec["steps"]["installation"]["sla"] = "7d"  # 2 + 3 + 2 + 1 + 7 = 15d, just in time
    assert parse_process(spec)[1] == []


def test_mixed_units_compare_in_hours() -> None:
    spec: dict[str, Any] = {
        "sla": "2d",
        "start": "triage",
        "steps": {
            "triage": {"owner": "clerk", "sla": "4h", "actions": {"send": {"to": "clean"}}},
            "clean": {
                "owner": "sanitary_inspector",
                "sla": "1d",
                "actions": {"done": {"to": "ok"}},
            },
            "ok": {"outcome": "resolved"},
        },
    }
    assert parse_process(spec)[1] == []
    spec["steps"]["clean"]["sla"] = "2d"
    [warning] = parse_process(spec)[1]
    assert warning.level == "warning"
    assert warning.message.startswith(
        "step timelines on the main path add up to 52h, more than the process timeline 2d (48h)"
    )


def test_main_path_is_the_shortest_way_to_approval() -> None:
    process, _ = parse_process(water_connection())
    assert process is not None
    assert main_path(process) == [
        "scrutiny", "site_inspection", "approval", "payment", "payment_check", "installation",
        "connected",
    ]  # fmt: skip
