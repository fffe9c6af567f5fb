"""The workflow engine: process specs, transitions, the SLA clock and diagrams.

Pure Python (pydantic, holidays): nothing here imports Django or the rest of ocsc.
"""

from .calendar import WorkCalendar
from .diagram import mermaid
from .engine import (
    ActionRefused,
    Category,
    Move,
    RefusalCode,
    RoleChart,
    allowed_actions,
    apply,
    category,
    timeout_action,
)
from .spec import (
    CITIZEN,
    LANGUAGES,
    SYSTEM,
    Action,
    Duration,
    Outcome,
    Process,
    Step,
    Text,
    Timeout,
    text,
)
from .validate import Problem, main_path, parse_process

__all__ = [
    "CITIZEN",
    "LANGUAGES",
    "SYSTEM",
    "Action",
    "ActionRefused",
    "Category",
    "Duration",
    "Move",
    "Outcome",
    "Problem",
    "Process",
    "RefusalCode",
    "RoleChart",
    "Step",
    "Text",
    "Timeout",
    "WorkCalendar",
    "allowed_actions",
    "apply",
    "category",
    "main_path",
    "mermaid",
    "parse_process",
    "text",
    "timeout_action",
]
