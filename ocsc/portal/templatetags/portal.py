from django import template

from ocsc.portal.labels import CATEGORIES, EVENTS, action_label

register = template.Library()


@register.filter
def category_label(code: str) -> str:
    return str(CATEGORIES.get(code, code))


@register.filter
def event_label(kind: str) -> str:
    return str(EVENTS.get(kind, kind))


@register.filter
def action_name(code: str) -> str:
    return action_label(code)


@register.filter
def get(mapping: dict[str, object], key: str) -> object:
    return mapping.get(key, "") if mapping else ""
