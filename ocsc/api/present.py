"""Small presentation helpers shared by the schemas and the renderers: labels and lateness."""

from datetime import datetime

from ocsc.accounts.models import User
from ocsc.cases.models import Application
from ocsc.workflow import CITIZEN, Process

# The role a citizen-owned step waits on, named like the catalog's roles.
CITIZEN_NAME = {"en": "Applicant", "ur": "درخواست گزار", "ps": "غوښتونکی"}


def default_label(code: str) -> dict[str, str]:
    """A label for a code the catalog left unnamed: `site_inspection` → `Site inspection`."""
    return {"en": code.replace("_", " ").replace("-", " ").capitalize()}


def step_name(process: Process, state: str) -> dict[str, str]:
    step = process.steps.get(state)
    return dict(step.name) if step is not None and step.name else default_label(state)


def role_name(code: str, names: dict[str, dict[str, str]]) -> dict[str, str]:
    if code == CITIZEN:
        return dict(CITIZEN_NAME)
    return names.get(code) or default_label(code)


def is_late(due_at: datetime | None, now: datetime) -> bool:
    return due_at is not None and now > due_at


def person(user: User | None) -> str | None:
    """How a person is shown: their name, or their number when they gave no name."""
    if user is None:
        return None
    return user.name or user.phone


def overall_late(application: Application, now: datetime) -> bool:
    """Late overall: past the whole process's due time on the organization's clock (which
    stops while the citizen holds the application)."""
    if application.is_closed or application.due_at is None:
        return False
    return (application.paused_at or now) > application.due_at
