"""The application form: data checked against a service's field definitions, field by field."""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from ocsc.accounts.identity import normalize_cnic, normalize_phone
from ocsc.catalog.models import label

TEXT_LIMITS = {"text": 500, "long_text": 5000}


class InvalidInput(ValueError):
    """Bad input: `errors` maps each field (or `__all__`) to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{key}: {message}" for key, message in self.errors.items()))


def clean_form_data(fields: list[dict[str, Any]], data: Mapping[str, Any]) -> dict[str, Any]:
    """The data in stored form (numbers as strings, phones in E.164, …), or InvalidInput."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    known = {field["key"] for field in fields}
    for key in data:
        if key not in known:
            errors[key] = f"unknown field; this form has {', '.join(sorted(known)) or 'no fields'}"
    for field in fields:
        key, value = field["key"], data.get(field["key"])
        if value is None or value == "" or value == []:
            if field.get("required"):
                errors[key] = f"{label(field['label'], 'en')} is required"
            continue
        try:
            clean[key] = _clean(field, value)
        except (ValueError, ValidationError) as exc:
            errors[key] = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
    if errors:
        raise InvalidInput(errors)
    return clean


def _clean(field: dict[str, Any], value: Any) -> Any:
    kind = field["type"]
    if kind in TEXT_LIMITS:
        if not isinstance(value, str):
            raise ValueError("expected text")
        limit = field.get("max_length") or TEXT_LIMITS[kind]
        if len(value) > limit:
            raise ValueError(f"at most {limit} characters (this has {len(value)})")
        return value.strip()
    if kind == "number":
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"'{value}' is not a number") from None
        if not number.is_finite():
            raise ValueError(f"'{value}' is not a number")
        if field.get("min") is not None and number < Decimal(str(field["min"])):
            raise ValueError(f"at least {field['min']}")
        if field.get("max") is not None and number > Decimal(str(field["max"])):
            raise ValueError(f"at most {field['max']}")
        return str(number)
    if kind in ("choice", "multi_choice"):
        allowed = [choice["value"] for choice in field["choices"]]
        values = value if kind == "multi_choice" else [value]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(
                "expected a list of choices" if kind == "multi_choice" else "expected a choice"
            )
        for item in values:
            if item not in allowed:
                raise ValueError(f"'{item}' is not one of {', '.join(allowed)}")
        return values if kind == "multi_choice" else value
    if kind == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(f"'{value}' is not a date: write YYYY-MM-DD") from None
    if kind == "phone":
        return normalize_phone(str(value))
    if kind == "cnic":
        return normalize_cnic(str(value))
    if kind == "location":
        return clean_location(value)
    raise ValueError(f"unknown field type '{kind}'")


def clean_location(value: Any) -> dict[str, Any]:
    """{lat, lng, address}: a point in Pakistan's rough bounds, or an address, or both."""
    if not isinstance(value, Mapping):
        raise ValueError("expected {lat, lng, address}")
    result: dict[str, Any] = {}
    lat, lng, address = value.get("lat"), value.get("lng"), value.get("address")
    if lat is not None or lng is not None:
        try:
            lat_f, lng_f = float(lat), float(lng)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError("lat and lng must both be numbers") from None
        if not (23.0 <= lat_f <= 37.5 and 60.5 <= lng_f <= 77.5):
            raise ValueError(f"{lat_f}, {lng_f} is not in Pakistan")
        result.update(lat=round(lat_f, 6), lng=round(lng_f, 6))
    if address is not None:
        if not isinstance(address, str) or len(address) > 500:
            raise ValueError("the address is text of at most 500 characters")
        if address.strip():
            result["address"] = address.strip()
    if not result:
        raise ValueError("give a point on the map (lat, lng) or an address")
    return result
