"""The Urdu and Pashto catalogs: complete, consistent with their compiled files, and used."""

import ast
import gettext
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("ur", "ps")
# %(name)s, %(size).1f, %d …: what Python's %-formatting fills in (and %% is a literal %).
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs%]")
KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$')


@pytest.fixture(autouse=True)
def back_to_english() -> Iterator[None]:
    """A request's language stays active in the test's thread: later tests expect English."""
    yield
    translation.deactivate()


@dataclass
class Entry:
    flags: list[str] = field(default_factory=list)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    obsolete: bool = False


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header first (a small reader: no polib needed)."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        entry, current = Entry(), ("", 0)
        for line in block.splitlines():
            if line.startswith("#~"):
                entry.obsolete = True
            elif line.startswith("#,"):
                entry.flags += [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith("#"):
                continue
            elif match := KEYWORD.match(line):
                keyword, index, value = match.groups()
                text = ast.literal_eval(value)
                if keyword.startswith("msgstr"):
                    current = ("msgstr", int(index or 0))
                    entry.msgstr[current[1]] = text
                else:
                    current = (keyword, 0)
                    setattr(entry, keyword, text)
            elif line.startswith('"'):
                text = ast.literal_eval(line)
                if current[0] == "msgstr":
                    entry.msgstr[current[1]] += text
                else:
                    setattr(entry, current[0], getattr(entry, current[0]) + text)
            else:
                raise AssertionError(f"{path}: cannot read {line!r}")
        entries.append(entry)
    return entries


def placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


def catalog(language: str) -> Path:
    return ROOT / "locale" / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_with_the_same_placeholders(language: str) -> None:
    header, *entries = read_po(catalog(language))
    assert header.msgid == "" and "fuzzy" not in header.flags
    assert f"Language: {language}\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]
    assert len(entries) > 150  # the whole portal, not a stub

    problems = []
    for entry in entries:
        name = f"{entry.msgctxt + ' | ' if entry.msgctxt else ''}{entry.msgid!r}"
        if entry.obsolete or "fuzzy" in entry.flags:
            problems.append(f"{name}: obsolete or fuzzy")
        forms = [0, 1] if entry.msgid_plural is not None else [0]
        if sorted(entry.msgstr) != forms:
            problems.append(f"{name}: forms {sorted(entry.msgstr)}, expected {forms}")
        for index, text in entry.msgstr.items():
            source = entry.msgid_plural if index and entry.msgid_plural else entry.msgid
            if not text.strip():
                problems.append(f"{name}: not translated")
            elif placeholders(text) != placeholders(source):
                problems.append(f"{name}: {placeholders(text)} != {placeholders(source)}")
            if "<" in source or "<" in text:
                problems.append(f"{name}: markup in a message")
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_is_current(language: str) -> None:
    """The committed .mo loads and says what the .po says: no one forgot compilemessages."""
    with catalog(language).with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    assert compiled.info()["language"] == language
    for entry in read_po(catalog(language))[1:]:
        if entry.msgid_plural is not None:
            for n, index in ((1, 0), (5, 1)):
                got = (
                    compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                    if entry.msgctxt
                    else compiled.ngettext(entry.msgid, entry.msgid_plural, n)
                )
                assert got == entry.msgstr[index], entry.msgid
        else:
            got = (
                compiled.pgettext(entry.msgctxt, entry.msgid)
                if entry.msgctxt
                else compiled.gettext(entry.msgid)
            )
            assert got == entry.msgstr[0], entry.msgid


HOME = {
    "ur": ["بلدیاتی سہولت کے لیے درخواست دیں", "تلاش کریں", "20 کام کے دن", "24 گھنٹے"],
    "ps": ["د ښاروالۍ خدمت لپاره غوښتنلیک ورکړئ", "ولټوئ", "20 کاري ورځې", "24 ساعته"],
}
SIGN_IN = {
    "ur": ["لاگ ان", "کوڈ بھیجیں", "ہم آپ کو ایس ایم ایس پر کوڈ بھیجیں گے۔"],
    "ps": ["ننوتل", "کوډ راولېږئ", "موږ به تاسو ته په ایس ایم ایس کې کوډ درولېږو."],
}
BAD_PHONE = {
    "ur": "12345 پاکستانی موبائل نمبر نہیں ہے",
    "ps": "12345 پاکستاني موبایل نمبر نه دی",
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_home_page_speaks_the_language_right_to_left(
    client: Client, mini_catalog: None, language: str
) -> None:
    page = client.get("/", headers={"accept-language": language}).content.decode()

    assert f'lang="{language}" dir="rtl"' in page
    for text in HOME[language]:
        assert text in page
    assert "Apply for a municipal service" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sign_in_page_and_its_errors_speak_the_language(client: Client, language: str) -> None:
    page = client.get("/signin/", headers={"accept-language": language}).content.decode()

    assert f'lang="{language}" dir="rtl"' in page
    for text in SIGN_IN[language]:
        assert text in page
    assert "Send code" not in page

    refused = client.post(
        "/signin/", {"stage": "phone", "phone": "12345"}, headers={"accept-language": language}
    )
    assert refused.status_code == 422
    # The message comes from ocsc.accounts.identity, translated when it is raised.
    assert BAD_PHONE[language] in refused.content.decode()
    assert "03001234567" in refused.content.decode()
