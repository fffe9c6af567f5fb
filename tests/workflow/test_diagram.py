from ocsc.workflow import Process, mermaid

from .specs import water_connection


def test_mermaid_draws_every_step_and_action() -> None:
    process = Process.model_validate(water_connection())
    chart = mermaid(process)
    lines = chart.splitlines()
    assert lines[0] == "flowchart TD"
    assert '    begin(("start")) --> s0' in lines
    assert '    s0["Scrutiny<br/>clerk, 2d"]' in lines
    assert '    s4["payment<br/>citizen"]' in lines
    assert '    s7(["connected<br/>approved"])' in lines  # terminal: a stadium
    assert '    s8(["rejected"])' in lines
    assert '    s0 -->|"forward"| s2' in lines
    assert '    s1 -.->|"lapse"| s9' in lines  # the system's action, dotted
    assert '    s3 -->|"Approve"| s4' in lines  # an action's label
    edges = [line for line in lines if "-->|" in line or "-.->|" in line]
    assert len(edges) == sum(len(step.actions) for step in process.steps.values())
    assert mermaid(process) == chart  # deterministic


def test_mermaid_speaks_the_language_and_escapes_labels() -> None:
    spec = water_connection()
    spec["steps"]["approval"]["name"] = {"en": 'Approval by the "TO" <infra> #1'}
    chart = mermaid(Process.model_validate(spec), "ur")
    assert '    s0["جانچ پڑتال<br/>clerk, 2d"]' in chart
    assert '    s3 -->|"منظور"| s4' in chart
    assert 's3["Approval by the #quot;TO#quot; #lt;infra#gt; #35;1<br/>to_infra, 2d"]' in chart
