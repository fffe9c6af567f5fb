from typing import Any

from django import template
from django.utils.translation import ngettext

from ocsc.catalog.models import label as label_text

register = template.Library()


@register.filter
def label(value: dict[str, str] | None) -> str:
    """A label map's text in the active language, falling back to English."""
    return label_text(value)


@register.filter
def sla(process: Any) -> str:
    """The process timeline of a ProcessVersion, e.g. "15 working days" or "24 hours"."""
    spec = getattr(process, "spec", None) or {}
    value = str(spec.get("sla", ""))
    amount = int(value[:-1]) if value[:-1].isdigit() else 0
    if value.endswith("d"):
        return ngettext("%(n)d working day", "%(n)d working days", amount) % {"n": amount}
    if value.endswith("h"):
        return ngettext("%(n)d hour", "%(n)d hours", amount) % {"n": amount}
    return ""
