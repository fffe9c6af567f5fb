"""A Mermaid flowchart of a process, for the catalog and the process editor."""

from .spec import Process, text

_OUTCOME_STYLES = {
    "approved": "fill:#d1e7dd,stroke:#0f5132",
    "resolved": "fill:#d1e7dd,stroke:#0f5132",
    "rejected": "fill:#f8d7da,stroke:#842029",
    "withdrawn": "fill:#e2e3e5,stroke:#41464b",
}


def _escape(label: str) -> str:
    for char, entity in [("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")]:
        label = label.replace(char, entity)
    return " ".join(label.split())


def mermaid(process: Process, lang: str = "en") -> str:
    """A `flowchart TD`: a node per step (its name, then its owner and timeline), an edge per
    action (dotted for the system's), terminal steps as stadiums coloured by outcome."""
    ids = {code: f"s{number}" for number, code in enumerate(process.steps)}
    lines = ["flowchart TD"]
    if process.start in ids:
        lines.append(f'    begin(("start")) --> {ids[process.start]}')
    for code, step in process.steps.items():
        name = _escape(text(step.name, lang) or code)
        if step.terminal:
            label = name if name == step.outcome else f"{name}<br/>{step.outcome}"
            lines.append(f'    {ids[code]}(["{label}"])')
        else:
            detail = ", ".join(part for part in [step.owner, str(step.sla or "")] if part)
            label = f"{name}<br/>{_escape(detail)}" if detail else name
            lines.append(f'    {ids[code]}["{label}"]')
    for code, step in process.steps.items():
        for action_code, action in step.actions.items():
            if action.to in ids:
                arrow = "-.->" if action.by == "system" else "-->"
                label = _escape(text(action.label, lang) or action_code)
                lines.append(f'    {ids[code]} {arrow}|"{label}"| {ids[action.to]}')
    for outcome, style in _OUTCOME_STYLES.items():
        nodes = [ids[code] for code, step in process.steps.items() if step.outcome == outcome]
        if nodes:
            lines.append(f"    classDef {outcome} {style}")
            lines.append(f"    class {','.join(nodes)} {outcome}")
    return "\n".join(lines) + "\n"
