"""OCSC's services and applications in GeoReport v2's terms.

| Open311 | OCSC |
| --- | --- |
| service_code | the service's code (`<organization>:<code>` when several offer it, see queries) |
| attributes | the form's fields but two: the location (lat/long, address_string) and the |
|   | first long text (description) |
| service_request_id | the tracking number |
| status | `closed` when the application's category is a closed one, else `open` |
| status_notes | the latest public text from the organization's side (never an internal note) |
| agency_responsible | the organization's name |
| expected_datetime | the whole process's due time |
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from ocsc.api.open311.queries import Scope
from ocsc.cases.formdata import TEXT_LIMITS
from ocsc.cases.models import Application
from ocsc.catalog.models import Service, label

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
DESCRIPTION_LIMIT = 4000  # the spec's limit for `description`

DATATYPES = {
    "text": "string",
    "phone": "string",
    "cnic": "string",
    "long_text": "text",
    "number": "number",
    "date": "datetime",
    "choice": "singlevaluelist",
    "multi_choice": "multivaluelist",
}
FORMATS = {
    "phone": "A Pakistani mobile number, e.g. 03001234567",
    "cnic": "A CNIC, XXXXX-XXXXXXX-X",
    "date": "A date, YYYY-MM-DD (a time given with it is ignored)",
}


@dataclass(frozen=True)
class Form:
    """How a service's form meets a request: its location fields take lat/long and
    address_string, its first long text takes description, the rest are attributes."""

    location_keys: tuple[str, ...]
    description_key: str | None
    attributes: tuple[dict[str, Any], ...]

    def types(self) -> dict[str, str]:
        return {field["key"]: field["type"] for field in self.attributes}


def form_of(service: Service) -> Form:
    fields = service.fields
    description = next((f["key"] for f in fields if f["type"] == "long_text"), None)
    return Form(
        location_keys=tuple(f["key"] for f in fields if f["type"] == "location"),
        description_key=description,
        attributes=tuple(f for f in fields if f["type"] in DATATYPES and f["key"] != description),
    )


def w3c(moment: datetime | None) -> str | None:
    """A W3C date-time in the deployment's time zone, with its offset."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def service_out(service: Service, where: Scope) -> dict[str, Any]:
    return {
        "service_code": where.code(service.organization, service.code),
        "service_name": label(service.name),
        "description": label(service.description),
        "metadata": bool(form_of(service).attributes),
        "type": "realtime",
        "keywords": "",
        "group": label(service.organization.name),
    }


def _format(field: dict[str, Any]) -> str:
    if field["type"] == "number":
        low, high = field.get("min"), field.get("max")
        if low is not None and high is not None:
            return f"A number from {low} to {high}"
        if low is not None:
            return f"A number, at least {low}"
        if high is not None:
            return f"A number, at most {high}"
        return "A number"
    if field["type"] in TEXT_LIMITS:
        limit = field.get("max_length") or TEXT_LIMITS[field["type"]]
        return f"At most {limit} characters"
    return FORMATS.get(field["type"], "")


def attribute_out(field: dict[str, Any], order: int) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "variable": True,
        "code": field["key"],
        "datatype": DATATYPES[field["type"]],
        "required": bool(field.get("required")),
        "datatype_description": _format(field),
        "order": order,
        "description": label(field.get("label")) or field["key"],
    }
    if field["type"] in ("choice", "multi_choice"):
        attribute["values"] = [
            {"key": choice["value"], "name": label(choice.get("label")) or choice["value"]}
            for choice in field.get("choices", [])
        ]
    return attribute


def definition_out(service: Service, where: Scope) -> dict[str, Any]:
    return {
        "service_code": where.code(service.organization, service.code),
        "attributes": [
            attribute_out(field, order)
            for order, field in enumerate(form_of(service).attributes, start=1)
        ],
    }


def request_out(application: Application, where: Scope) -> dict[str, Any]:
    """One request, from an application of `queries.requests` (with its annotations)."""
    service = application.service
    location = application.location or {}
    form = form_of(service)
    described = application.data.get(form.description_key) if form.description_key else None
    return {
        "service_request_id": application.tracking_no,
        "status": "closed" if application.is_closed else "open",
        "status_notes": getattr(application, "status_note", None) or "",
        "service_name": label(service.name),
        "service_code": where.code(application.organization, service.code),
        "description": described or getattr(application, "first_comment", None) or "",
        "agency_responsible": label(application.organization.name),
        "service_notice": "",
        "requested_datetime": w3c(application.submitted_at),
        "updated_datetime": w3c(application.updated_at),
        "expected_datetime": w3c(application.due_at),
        "address": location.get("address", ""),
        "address_id": "",
        "zipcode": "",
        "lat": location.get("lat"),
        "long": location.get("lng"),
        "media_url": "",
    }
