"""The shape of a catalog file (YAML or JSON), as typed models.

Processes are kept as plain data here and validated by the workflow engine, so that
their problems carry the same paths whether a process comes from a file or the admin.
"""

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ocsc.workflow import Text

SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
Slug = Annotated[str, StringConstraints(pattern=SLUG.pattern, max_length=80)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=50)]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
JurisdictionKind = Literal[
    "province",
    "division",
    "district",
    "tehsil",
    "city",
    "union_council",
    "neighbourhood_council",
    "village_council",
    "ward",
]
FieldType = Literal[
    "text", "long_text", "number", "choice", "multi_choice", "date", "phone", "cnic", "location"
]
CHOICE_TYPES = ("choice", "multi_choice")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CalendarSpec(Model):
    workweek: Annotated[list[Day], Field(min_length=1)]
    country_holidays: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    extra: list[date] = []
    timezone: str = "Asia/Karachi"


class JurisdictionSpec(Model):
    code: Slug
    kind: JurisdictionKind
    name: Text
    children: list["JurisdictionSpec"] = []


class RoleSpec(Model):
    name: Text
    duty: Text | None = None
    reports_to: Key | None = None
    head: bool = False


class OrganizationKindSpec(Model):
    name: Text
    roles: Annotated[dict[Key, RoleSpec], Field(min_length=1)]


class Fee(Model):
    amount: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "PKR"


class RequirementSpec(Model):
    code: Key
    kind: Literal["document", "affidavit"]
    name: Text
    description: Text | None = None
    text: Text | None = None
    required: bool = True

    @model_validator(mode="after")
    def affidavit_has_text(self) -> "RequirementSpec":
        if self.kind == "affidavit" and self.text is None:
            raise ValueError("an affidavit needs its text (the undertaking the citizen signs)")
        return self


class Choice(Model):
    value: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    label: Text


class FieldSpec(Model):
    key: Key
    type: FieldType
    label: Text
    required: bool = False
    help: Text | None = None
    choices: list[Choice] | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: Annotated[int, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def choices_fit_type(self) -> "FieldSpec":
        if self.type in CHOICE_TYPES:
            if not self.choices:
                raise ValueError(f"a {self.type} field needs a non-empty list of choices")
            values = [choice.value for choice in self.choices]
            if len(set(values)) != len(values):
                raise ValueError("choice values must be unique")
        elif self.choices is not None:
            raise ValueError(f"a {self.type} field has no choices")
        if (self.min is not None or self.max is not None) and self.type != "number":
            raise ValueError("min and max apply to number fields only")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


class ServiceSpec(Model):
    code: Slug
    category: Literal["application", "complaint"]
    name: Text
    description: Text | None = None
    fee: Fee | None = None
    requirements: list[RequirementSpec] = []
    fields: list[FieldSpec] = []
    process: dict[str, Any]


class OfferedService(Model):
    """An organization's entry in `services`: a code, or a code with overrides."""

    code: Slug
    name: Text | None = None
    description: Text | None = None
    fee: Fee | None = None
    requirements: list[RequirementSpec] | None = None
    fields: list[FieldSpec] | None = None
    process: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def from_code(cls, data: Any) -> Any:
        return {"code": data} if isinstance(data, str) else data


class OrganizationSpec(Model):
    code: Slug
    kind: Slug
    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,5}$")]
    name: Text
    calendar: Slug
    serves: Annotated[list[Slug], Field(min_length=1)]
    services: list[OfferedService] = []


class CatalogFile(Model):
    calendars: dict[Slug, CalendarSpec] = {}
    jurisdictions: list[JurisdictionSpec] = []
    organization_kinds: dict[Slug, OrganizationKindSpec] = {}
    services: list[ServiceSpec] = []
    organizations: list[OrganizationSpec] = []
