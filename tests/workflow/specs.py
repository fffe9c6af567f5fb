"""The example process of DESIGN.md §4, a role chart for it, and generated process specs."""

from typing import Any

import yaml
from hypothesis import strategies as st

from ocsc.workflow import RoleChart

WATER_CONNECTION = """
process:
  sla: 15d
  start: scrutiny
  steps:
    scrutiny:
      name: {en: Scrutiny, ur: "جانچ پڑتال"}
      owner: clerk
      sla: 2d
      duty: {en: "Check that the documents are complete"}
      actions:
        forward: {to: site_inspection}
        return:  {to: correction, comment: required}
        reject:  {to: rejected, comment: required}
    correction:
      owner: citizen
      sla: 10d
      timeout: {action: lapse}
      actions:
        resubmit: {to: scrutiny}
        lapse:    {to: lapsed, by: system}
    site_inspection:
      owner: sub_engineer
      sla: 3d
      requires: [inspection_report]
      actions:
        recommend: {to: approval}
        reject:    {to: rejected, comment: required}
    approval:
      owner: to_infra
      sla: 2d
      actions:
        approve: {to: payment, label: {en: Approve, ur: "منظور"}}
        reject:  {to: rejected, comment: required}
    payment:
      owner: citizen
      fee: true
      actions:
        pay: {to: payment_check}
    payment_check:
      owner: accountant
      sla: 1d
      actions:
        confirm: {to: installation}
        return:  {to: payment, comment: required}
    installation:
      owner: sub_engineer
      sla: 5d
      actions:
        complete: {to: connected}
    connected: {outcome: approved}
    rejected:  {outcome: rejected}
    lapsed:    {outcome: withdrawn}
"""

ROLES = ("tmo", "to_infra", "sub_engineer", "clerk", "accountant")
REQUIREMENTS = ("cnic", "property_papers", "inspection_report")
# A TMA: the TMO at the top; the TO (infrastructure) over the sub-engineer; the clerk under
# the sub-engineer, so the TO is the clerk's supervisor two levels up.
CHART = RoleChart(
    {
        "tmo": None,
        "to_infra": "tmo",
        "sub_engineer": "to_infra",
        "clerk": "sub_engineer",
        "accountant": "tmo",
    }
)


def water_connection() -> dict[str, Any]:
    """A fresh copy of the example's `process` mapping, to change in a test."""
    data: dict[str, Any] = yaml.safe_load(WATER_CONNECTION)["process"]
    return data


OUTCOMES = ("approved", "rejected", "withdrawn", "resolved")
OWNERS = (*ROLES, "citizen")
durations = st.builds(lambda n, unit: f"{n}{unit}", st.integers(1, 12), st.sampled_from("dh"))


@st.composite
def process_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid process spec by construction: a chain of steps from the start to an approving
    step, extra actions to random steps, every terminal step the target of some action, and
    on some citizen steps a timeout that lapses the application."""
    work = [f"w{i}" for i in range(draw(st.integers(1, 6)))]
    ends = ["done", *[f"end_{o}" for o in draw(st.sets(st.sampled_from(OUTCOMES)))]]
    steps: dict[str, Any] = {}
    for i, code in enumerate(work):
        step: dict[str, Any] = {"owner": draw(st.sampled_from(OWNERS))}
        if draw(st.booleans()):
            step["sla"] = draw(durations)
        if draw(st.integers(0, 3)) == 0:
            step["requires"] = draw(st.lists(st.sampled_from(REQUIREMENTS), max_size=2))
        nxt = work[i + 1] if i + 1 < len(work) else "done"
        actions: dict[str, Any] = {"next": {"to": nxt}}
        for n in range(draw(st.integers(0, 3))):
            action: dict[str, Any] = {"to": draw(st.sampled_from(work + ends))}
            if draw(st.booleans()):
                action["comment"] = "required"
            actions[f"a{n}"] = action
        if "sla" in step and draw(st.booleans()):
            actions["lapse"] = {"to": draw(st.sampled_from(ends)), "by": "system"}
            step["timeout"] = {"action": "lapse"}
        step["actions"] = actions
        steps[code] = step
    for end in ends:
        if not any(a["to"] == end for s in steps.values() for a in s["actions"].values()):
            source = draw(st.sampled_from(work))
            steps[source]["actions"][f"to_{end}"] = {"to": end}
    steps["done"] = {"outcome": draw(st.sampled_from(["approved", "resolved"]))}
    for end in ends[1:]:
        steps[end] = {"outcome": end.removeprefix("end_")}
    spec: dict[str, Any] = {"start": "w0", "steps": steps}
    if draw(st.booleans()):
        spec["sla"] = draw(durations)
    return spec
