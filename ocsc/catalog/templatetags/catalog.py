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
def duration(value: Any) -> str:
    """A timeline such as "15d" or "24h" in words: "15 working days", "24 hours"."""
    text = str(value or "")
    amount = int(text[:-1]) if text[:-1].isdigit() else 0
    if text.endswith("d"):
        return ngettext("%(n)d working day", "%(n)d working days", amount) % {"n": amount}
    if text.endswith("h"):
        return ngettext("%(n)d hour", "%(n)d hours", amount) % {"n": amount}
    return ""


@register.filter
def sla(process: Any) -> str:
    """The whole-process timeline of a ProcessVersion, in words."""
    spec = getattr(process, "spec", None) or {}
    return duration(spec.get("sla", ""))
