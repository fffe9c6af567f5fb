from collections.abc import Collection

import pytest

from ocsc.workflow import (
    ActionRefused,
    Category,
    Move,
    Process,
    RoleChart,
    allowed_actions,
    apply,
    category,
    timeout_action,
)

from .specs import CHART, water_connection


@pytest.fixture
def process() -> Process:
    return Process.model_validate(water_connection())


def refusal(
    process: Process, state: str, action: str, roles: Collection[str], comment: str = ""
) -> str:
    with pytest.raises(ActionRefused) as caught:
        apply(process, state=state, action=action, roles=roles, chart=CHART, comment=comment)
    return caught.value.code


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("scrutiny", Category.OPEN),
        ("correction", Category.WAITING_CITIZEN),
        ("payment", Category.WAITING_CITIZEN),
        ("connected", Category.CLOSED_OK),
        ("rejected", Category.CLOSED_REJECTED),
        ("lapsed", Category.CLOSED_WITHDRAWN),
    ],
)
def test_category(process: Process, state: str, expected: Category) -> None:
    assert category(process, state) == expected


def test_an_unknown_state_is_an_error(process: Process) -> None:
    with pytest.raises(ValueError, match="unknown state 'nowhere'"):
        category(process, "nowhere")
    with pytest.raises(ValueError, match="unknown state 'nowhere'"):
        allowed_actions(process, "nowhere", roles={"tmo"}, chart=CHART)


# -- the role chart


def test_chain_lists_supervisors_nearest_first() -> None:
    assert CHART.chain("clerk") == ["sub_engineer", "to_infra", "tmo"]
    assert CHART.chain("tmo") == []
    assert CHART.chain("unknown") == []


def test_chain_stops_on_a_cycle() -> None:
    chart = RoleChart({"a": "b", "b": "c", "c": "a"})
    assert chart.chain("a") == ["b", "c"]
    assert not chart.may_act({"d"}, "a")


def test_may_act() -> None:
    assert CHART.may_act({"clerk"}, "clerk")
    assert CHART.may_act({"to_infra"}, "clerk")  # two levels up
    assert CHART.may_act({"accountant", "tmo"}, "clerk")
    assert not CHART.may_act({"accountant"}, "clerk")  # another branch
    assert not CHART.may_act({"clerk"}, "sub_engineer")  # supervisors act down, not up
    assert CHART.may_act({"citizen"}, "citizen")
    assert not CHART.may_act({"tmo"}, "citizen")


# -- allowed actions


@pytest.mark.parametrize(
    ("state", "roles", "expected"),
    [
        ("scrutiny", {"clerk"}, ["forward", "return", "reject"]),
        ("scrutiny", {"to_infra"}, ["forward", "return", "reject"]),  # two levels up
        ("scrutiny", {"accountant"}, []),
        ("scrutiny", {"citizen"}, []),
        ("scrutiny", {"system"}, []),
        ("correction", {"citizen"}, ["resubmit"]),
        ("correction", {"tmo"}, []),
        ("correction", {"system"}, ["lapse"]),
        ("payment_check", {"tmo"}, ["confirm", "return"]),
        ("connected", {"tmo"}, []),
    ],
)
def test_allowed_actions(
    process: Process, state: str, roles: set[str], expected: list[str]
) -> None:
    assert allowed_actions(process, state, roles=roles, chart=CHART) == expected


def test_timeout_action(process: Process) -> None:
    assert timeout_action(process, "correction") == "lapse"
    assert timeout_action(process, "scrutiny") is None


# -- apply


def test_apply_moves_along(process: Process) -> None:
    move = apply(process, state="scrutiny", action="forward", roles={"clerk"}, chart=CHART)
    assert move == Move("forward", "scrutiny", "site_inspection", None, Category.OPEN)
    move = apply(process, state="approval", action="approve", roles={"tmo"}, chart=CHART)
    assert (move.to_state, move.category) == ("payment", Category.WAITING_CITIZEN)
    move = apply(
        process,
        state="installation",
        action="complete",
        roles={"sana", "sub_engineer"},
        chart=CHART,
    )
    assert move == Move("complete", "installation", "connected", "approved", Category.CLOSED_OK)


def test_the_system_lapses_a_correction(process: Process) -> None:
    move = apply(process, state="correction", action="lapse", roles={"system"}, chart=CHART)
    assert (move.outcome, move.category) == ("withdrawn", Category.CLOSED_WITHDRAWN)


def test_another_role_is_not_allowed(process: Process) -> None:
    with pytest.raises(ActionRefused) as caught:
        apply(process, state="scrutiny", action="forward", roles={"accountant"}, chart=CHART)
    assert caught.value.code == "not_allowed"
    assert str(caught.value) == (
        "the step 'scrutiny' is owned by the role 'clerk' (or its supervisors)"
    )


@pytest.mark.parametrize(
    ("state", "action", "roles"),
    [
        ("correction", "resubmit", {"tmo"}),  # only the citizen acts on a citizen's step
        ("correction", "lapse", {"citizen"}),  # only the system takes a system action
        ("correction", "resubmit", {"system"}),  # the system takes only system actions
        ("scrutiny", "forward", {"citizen"}),
    ],
)
def test_not_allowed(process: Process, state: str, action: str, roles: set[str]) -> None:
    assert refusal(process, state, action, roles) == "not_allowed"


def test_a_required_comment(process: Process) -> None:
    assert refusal(process, "scrutiny", "return", {"clerk"}, comment="  \n") == "comment_required"
    move = apply(
        process, state="scrutiny", action="return", roles={"clerk"}, chart=CHART,
        comment="The CNIC copy is unreadable",
    )  # fmt: skip
    assert move.to_state == "correction"


def test_documents_missing(process: Process) -> None:
    with pytest.raises(ActionRefused) as caught:
        apply(process, state="site_inspection", action="recommend", roles={"sub_engineer"},
              chart=CHART, attached=["cnic"])  # fmt: skip
    assert caught.value.code == "documents_missing"
    assert caught.value.missing == ("inspection_report",)
    assert "inspection_report" in str(caught.value)
    move = apply(process, state="site_inspection", action="recommend", roles={"sub_engineer"},
                 chart=CHART, attached={"cnic", "inspection_report"})  # fmt: skip
    assert move.to_state == "approval"


def test_closed_unknown_state_and_unknown_action(process: Process) -> None:
    assert refusal(process, "connected", "complete", {"tmo"}) == "closed"
    assert refusal(process, "nowhere", "complete", {"tmo"}) == "unknown_state"
    with pytest.raises(ActionRefused) as caught:
        apply(process, state="scrutiny", action="approve", roles={"clerk"}, chart=CHART)
    assert caught.value.code == "unknown_action"
    assert str(caught.value).endswith("its actions are: forward, return, reject")
