"""Pakistani phone numbers and CNICs: parsing into one stored form, with clear errors."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_MOBILE_E164 = re.compile(r"\+923\d{9}")
_CNIC_DIGITS = re.compile(r"\d{13}")
_CNIC_FORMATTED = re.compile(r"\d{5}-\d{7}-\d")


def normalize_phone(value: str) -> str:
    """Return a Pakistani mobile number in E.164 (`+923001234567`).

    Accepts `03001234567`, `0300-1234567`, `0300 1234567`, `+923001234567`,
    `923001234567` and `00923001234567`.
    """
    raw = _PHONE_SEPARATORS.sub("", value.strip())
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    if raw.startswith("0"):
        raw = "+92" + raw[1:]
    elif raw.startswith("92"):
        raw = "+" + raw
    elif raw.startswith("3") and len(raw) == 10:
        raw = "+92" + raw
    if not _MOBILE_E164.fullmatch(raw):
        raise ValidationError(
            _(
                "%(value)s is not a Pakistani mobile number: "
                "write it as 03001234567 or +923001234567."
            ),
            code="invalid_phone",
            params={"value": value},
        )
    return raw


def normalize_cnic(value: str) -> str:
    """Return a CNIC as `XXXXX-XXXXXXX-X`, accepting it with or without dashes."""
    raw = value.strip()
    if _CNIC_FORMATTED.fullmatch(raw):
        return raw
    digits = raw.replace("-", "").replace(" ", "")
    if not _CNIC_DIGITS.fullmatch(digits):
        raise ValidationError(
            _("%(value)s is not a CNIC: it has 13 digits, written XXXXX-XXXXXXX-X."),
            code="invalid_cnic",
            params={"value": value},
        )
    return f"{digits[:5]}-{digits[5:12]}-{digits[12]}"
