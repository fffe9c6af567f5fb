"""The typed process spec: what a YAML/JSON process document validates into (DESIGN.md §4)."""

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    model_serializer,
    model_validator,
)

LANGUAGES = ("en", "ur", "ps")
CITIZEN = "citizen"  # the owner of a step that waits on the applicant
SYSTEM = "system"  # the role the worker acts with (timeouts)

Outcome = Literal["approved", "rejected", "withdrawn", "resolved"]


def _check_text(value: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(value) - set(LANGUAGES))
    if unknown:
        raise ValueError(f"unknown language {', '.join(unknown)}: use {', '.join(LANGUAGES)}")
    if not value.get("en", "").strip():
        raise ValueError("an English text ('en') is required")
    return value


Text = Annotated[dict[str, str], AfterValidator(_check_text)]
"""A label in several languages, e.g. ``{en: "Scrutiny", ur: "..."}``; ``en`` is required."""


def text(value: Mapping[str, str] | None, lang: str) -> str:
    """The text of a label in `lang`, falling back to English."""
    if value is None:
        return ""
    return value.get(lang) or value.get("en", "")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_DURATION = re.compile(r"\s*(\d+)\s*([dh])\s*")


class Duration(_Model):
    """A timeline: `d` counts working days of the organization's calendar, `h` clock hours.

    Written as a string, ``15d`` or ``24h``, and dumped back the same way.
    """

    amount: int = Field(gt=0)
    unit: Literal["d", "h"]

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, int | float):
            raise ValueError("write a timeline with its unit: 15d (working days) or 24h (hours)")
        if isinstance(data, str):
            match = _DURATION.fullmatch(data)
            if match is None:
                raise ValueError(
                    f"'{data}' is not a timeline: write 15d (working days) or 24h (clock hours)"
                )
            if int(match[1]) == 0:
                raise ValueError(f"'{data}': a timeline must be longer than zero")
            return {"amount": int(match[1]), "unit": match[2]}
        return data

    @model_serializer
    def _to_string(self) -> str:
        return str(self)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


class Timeout(_Model):
    """The action the system takes when the step's timeline runs out."""

    action: str


class Action(_Model):
    to: str
    comment: Literal["required", "optional"] = "optional"
    by: Literal["owner", "system"] = "owner"
    label: Text | None = None


class Step(_Model):
    name: Text | None = None
    owner: str | None = None  # a role code, or "citizen"
    sla: Duration | None = None
    duty: Text | None = None
    requires: tuple[str, ...] = ()  # requirement codes to attach before leaving the step
    fee: bool = False  # the service's fee is due at this step
    timeout: Timeout | None = None
    actions: dict[str, Action] = Field(default_factory=dict)
    outcome: Outcome | None = None

    @property
    def terminal(self) -> bool:
        """A step with an outcome ends the process."""
        return self.outcome is not None


class Process(_Model):
    sla: Duration | None = None
    start: str
    steps: dict[str, Step]
