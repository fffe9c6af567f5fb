"""The application form: data checked against a service's field definitions, field by field."""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

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
            errors[key] = _("unknown field; this form has %(fields)s") % {
                "fields": ", ".join(sorted(known)) or _("no fields")
            }
    for field in fields:
        key, value = field["key"], data.get(field["key"])
        if value is None or value == "" or value == []:
            if field.get("required"):
                errors[key] = _("%(field)s is required") % {"field": label(field["label"])}
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
            raise ValueError(_("expected text"))
        limit = field.get("max_length") or TEXT_LIMITS[kind]
        if len(value) > limit:
            raise ValueError(
                _("at most %(limit)d characters (this has %(count)d)")
                % {"limit": limit, "count": len(value)}
            )
        return value.strip()
    if kind == "number":
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(_("'%(value)s' is not a number") % {"value": value}) from None
        if not number.is_finite():
            raise ValueError(_("'%(value)s' is not a number") % {"value": value})
        if field.get("min") is not None and number < Decimal(str(field["min"])):
            raise ValueError(_("at least %(min)s") % {"min": field["min"]})
        if field.get("max") is not None and number > Decimal(str(field["max"])):
            raise ValueError(_("at most %(max)s") % {"max": field["max"]})
        return str(number)
    if kind in ("choice", "multi_choice"):
        allowed = [choice["value"] for choice in field["choices"]]
        values = value if kind == "multi_choice" else [value]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(
                _("expected a list of choices")
                if kind == "multi_choice"
                else _("expected a choice")
            )
        for item in values:
            if item not in allowed:
                raise ValueError(
                    _("'%(value)s' is not one of %(choices)s")
                    % {"value": item, "choices": ", ".join(allowed)}
                )
        return values if kind == "multi_choice" else value
    if kind == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(
                _("'%(value)s' is not a date: write YYYY-MM-DD") % {"value": value}
            ) from None
    if kind == "phone":
        return normalize_phone(str(value))
    if kind == "cnic":
        return normalize_cnic(str(value))
    if kind == "location":
        return clean_location(value)
    raise ValueError(_("unknown field type '%(type)s'") % {"type": kind})


def clean_location(value: Any) -> dict[str, Any]:
    """{lat, lng, address}: a point in Pakistan's rough bounds, or an address, or both."""
    if not isinstance(value, Mapping):
        raise ValueError(_("expected {lat, lng, address}"))
    result: dict[str, Any] = {}
    lat, lng, address = value.get("lat"), value.get("lng"), value.get("address")
    if lat is not None or lng is not None:
        try:
            lat_f, lng_f = float(lat), float(lng)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(_("lat and lng must both be numbers")) from None
        if not (23.0 <= lat_f <= 37.5 and 60.5 <= lng_f <= 77.5):
            raise ValueError(
                _("%(lat)s, %(lng)s is not in Pakistan") % {"lat": lat_f, "lng": lng_f}
            )
        result.update(lat=round(lat_f, 6), lng=round(lng_f, 6))
    if address is not None:
        if not isinstance(address, str) or len(address) > 500:
            raise ValueError(_("the address is text of at most 500 characters"))
        if address.strip():
            result["address"] = address.strip()
    if not result:
        raise ValueError(_("give a point on the map (lat, lng) or an address"))
    return result
