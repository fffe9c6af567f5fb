"""Texts in the recipient's language, per channel; SMS cut to fit, never their tracking number."""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings

from ocsc.notify.models import Channel
from ocsc.notify.sms import sms_size
from ocsc.notify.texts import EMAIL, TEXTS

LANGUAGES = ("en", "ur", "ps")
# What may be shortened to fit an SMS, first to last.
SHRINKABLE = ("comment", "list", "service", "step")
ELLIPSIS = "..."  # three dots: "…" is not GSM-7 and would make an English SMS Unicode
_SPACES = re.compile(r"[ \t]+")


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str


def _fill(template: str, values: Mapping[str, str]) -> str:
    text = template.format_map(_Values(values))
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n")).strip()


def _texts(reason: str, language: str) -> dict[str, str]:
    by_language = TEXTS[reason]
    return by_language.get(language) or by_language["en"]


def render(reason: str, channel: str, language: str, values: Mapping[str, str]) -> Rendered:
    """The title and body of a `reason`'s message by `channel` in `language` (English if the
    language has no text)."""
    texts = _texts(reason, language if language in LANGUAGES else "en")
    title = _fill(texts["title"], values)[:200]
    if channel == Channel.SMS:
        return Rendered(title, fit_sms(texts["sms"], values))
    text = _fill(texts.get("text") or texts["sms"], values)
    if channel == Channel.EMAIL:
        frame = EMAIL.get(language) or EMAIL["en"]
        return Rendered(title, _fill(frame, {**values, "text": text}) + "\n")
    return Rendered(title, text)


def fit_sms(template: str, values: Mapping[str, str], max_segments: int | None = None) -> str:
    """The SMS filled in, within `max_segments` (SMS_MAX_SEGMENTS) as gateways count them:
    free text ({comment}, then {list}, {service}, {step}) is shortened with an ellipsis;
    the tracking number and the template's own words never are."""
    limit = max_segments or settings.SMS_MAX_SEGMENTS
    current = dict(values)
    text = _fill(template, current)
    for name in SHRINKABLE:
        if sms_size(text).segments <= limit:
            break
        original = current.get(name, "")
        if not original:
            continue
        low, high = 0, len(original)  # the longest prefix that fits
        while low < high:
            middle = (low + high + 1) // 2
            current[name] = original[:middle].rstrip() + ELLIPSIS
            if sms_size(_fill(template, current)).segments <= limit:
                low = middle
            else:
                high = middle - 1
        current[name] = original[:low].rstrip() + ELLIPSIS if low else ""
        text = _fill(template, current)
    return text
