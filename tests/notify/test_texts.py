"""SMS counted as gateways count them, texts cut to fit without losing the tracking number,
and every text present in every language."""

import re
import string
from functools import cache
from pathlib import Path

import pytest
import yaml

from ocsc.notify.render import fit_sms
from ocsc.notify.sms import sms_size
from ocsc.notify.texts import EMAIL, TEXTS

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDERS = {
    *("tracking_no", "service", "step", "role", "comment", "due", "amount", "currency"),
    *("challan", "organization", "count", "list", "level", "state", "name", "link", "profile"),
}


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "gsm7", 0, 1),
        ("a" * 160, "gsm7", 160, 1),
        ("a" * 161, "gsm7", 161, 2),  # a long message is sent in parts of 153
        ("a" * 306, "gsm7", 306, 2),
        ("a" * 307, "gsm7", 307, 3),
        ("€" * 80, "gsm7", 160, 1),  # the extension table costs two septets each
        ("[" * 80 + "a", "gsm7", 161, 2),
        ("MDN-26-000001: é à ñ ü @ £ $ ¥ _ !", "gsm7", 34, 1),
        ("ç", "ucs2", 1, 1),  # only the capital Ç is GSM-7
        ("…", "ucs2", 1, 1),
        ("ا" * 70, "ucs2", 70, 1),  # Urdu: Unicode, 70 in one message
        ("ا" * 71, "ucs2", 71, 2),  # then parts of 67
        ("ا" * 134, "ucs2", 134, 2),
        ("ا" * 135, "ucs2", 135, 3),
        ("a" * 69 + "😀", "ucs2", 71, 2),  # outside the BMP: two UTF-16 units
    ],
)
def test_segments_are_counted_as_gateways_count_them(
    text: str, encoding: str, units: int, segments: int
) -> None:
    size = sms_size(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)


def test_a_long_comment_is_cut_to_fit_and_the_tracking_number_stays() -> None:
    template = TEXTS["needs_you"]["ur"]["sms"]
    comment = "شناختی کارڈ کی کاپی صاف نہیں ہے، دوبارہ اسکین کر کے بھیجیں۔ " * 10

    text = fit_sms(
        template, {"tracking_no": "MDN-26-000123", "step": "درستگی", "comment": comment}, 2
    )

    assert sms_size(text).segments == 2
    assert sms_size(text).units > 120  # as much of the comment as fits
    assert text.startswith("MDN-26-000123: درخواست آپ کی منتظر ہے (درستگی)۔ شناختی کارڈ")
    assert text.endswith("...")


def test_an_english_sms_stays_gsm_7_when_cut() -> None:
    template = TEXTS["rejected"]["en"]["sms"]

    text = fit_sms(template, {"tracking_no": "MDN-26-000123", "comment": "Too far. " * 60}, 1)

    assert sms_size(text).encoding == "gsm7"
    assert sms_size(text).segments == 1 and len(text) > 150
    assert text.startswith("MDN-26-000123: your application was rejected. Reason: Too far.")


def test_every_text_exists_in_every_language_with_known_placeholders() -> None:
    for reason, languages in TEXTS.items():
        assert set(languages) == {"en", "ur", "ps"}, reason
        for language, texts in languages.items():
            assert {"title", "sms"} <= set(texts) <= {"title", "sms", "text"}, (reason, language)
            for name, template in texts.items():
                used = {field for _, field, _, _ in string.Formatter().parse(template) if field}
                assert used <= PLACEHOLDERS, (reason, language, name, used - PLACEHOLDERS)
                if "{tracking_no}" in languages["en"]["sms"]:
                    assert "{tracking_no}" in template or name == "title", (reason, language)
    for frame in EMAIL.values():
        assert {"{text}", "{link}", "{profile}"} <= set(re.findall(r"\{\w+\}", frame))


def test_texts_about_an_application_always_carry_its_tracking_number() -> None:
    about_the_system = {"digest", "help_reply"}
    for reason in set(TEXTS) - about_the_system:
        for language, texts in TEXTS[reason].items():
            assert "{tracking_no}" in texts["sms"], (reason, language)


@cache
def longest_names() -> dict[str, dict[str, str]]:
    """The longest service and step names of the KP catalog, per language."""
    catalog = yaml.safe_load((ROOT / "catalogs" / "kp.yaml").read_text(encoding="utf-8"))
    longest: dict[str, dict[str, str]] = {"service": {}, "step": {}}
    for service in catalog["services"]:
        names = {"service": [service["name"]]}
        names["step"] = [s["name"] for s in service["process"]["steps"].values() if "name" in s]
        for kind, labels in names.items():
            for label in labels:
                for language in ("en", "ur", "ps"):
                    text = label.get(language) or label["en"]
                    if len(text) > len(longest[kind].get(language, "")):
                        longest[kind][language] = text
    return longest


@pytest.mark.parametrize("language", ["en", "ur", "ps"])
@pytest.mark.parametrize("reason", ["submitted", "fee_due", "rejected", "timeout_reminder"])
def test_the_receipt_and_the_decisions_fit_one_sms_even_with_the_longest_names(
    reason: str, language: str
) -> None:
    names = longest_names()
    values = {
        "tracking_no": "WSSCP-26-123456",
        "service": names["service"][language],
        "step": names["step"][language],
        "amount": "12,500",
        "currency": "PKR",
        "challan": "WSSCP-26-123456-12",
        "due": "21-12-2026",
    }

    text = fit_sms(TEXTS[reason][language]["sms"], values, 5)

    assert sms_size(text).segments == 1, text
