"""Bad input gets a JSON 4xx naming the field, and changes nothing."""

import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from ocsc.cases import actions
from ocsc.cases.models import Application, Attachment, Event
from tests.api.conftest import Api
from tests.personas import PDF, People, upload, water_connection

WSSC_CATALOG = Path(__file__).parent / "data" / "wssc.yaml"
JSON_TYPE = "application/json; charset=utf-8"
URDU = "براہ کرم میٹر گیٹ کے ساتھ لگائیں۔ شکریہ!"


def apply(api: Api, **overrides: Any) -> Any:
    people_docs = overrides.pop("documents", None)
    body = {
        "service": "water-connection",
        "jurisdiction": "kp-mardan-mardan-nc-1",
        "data": {"connection_size": "half_inch"},
        "documents": people_docs,
        **overrides,
    }
    return api.post("/applications", {k: v for k, v in body.items() if v is not None})


def documents_of(people: People) -> dict[str, str]:
    return {"cnic_copy": upload(people.ayesha), "affidavit": upload(people.ayesha)}


def assert_invalid(response: Any, field: str, *words: str, code: str = "invalid_input") -> None:
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == code
    assert field in body["errors"], body
    for word in words:
        assert word in body["errors"][field], body


@pytest.mark.parametrize("phone", ["12345", "0300-123", "+4915112345678", "030012345678", ""])
def test_a_wrong_phone_number_is_named(db: None, phone: str) -> None:
    assert_invalid(Api().post("/auth/otp", {"phone": phone}), "phone")
    assert_invalid(Api().post("/auth/token", {"phone": phone, "otp": "123456"}), "phone")


def test_a_missing_phone_is_named(db: None) -> None:
    assert_invalid(Api().post("/auth/otp", {}), "phone", "required")


def test_too_many_codes_is_429_with_retry_after(db: None) -> None:
    for _ in range(3):
        assert Api().post("/auth/otp", {"phone": "03451234567"}).status_code == 202
    refused = Api().post("/auth/otp", {"phone": "03451234567"})
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_codes"
    assert 0 < int(refused["Retry-After"]) <= 15 * 60 + 1


def test_a_wrong_code_is_401(db: None) -> None:
    Api().post("/auth/otp", {"phone": "03451234567"})
    refused = Api().post("/auth/token", {"phone": "03451234567", "otp": "000000x"})
    assert refused.status_code == 401
    assert refused.json()["code"] == "wrong_code"
    both = Api().post("/auth/token", {"phone": "03451234567", "otp": "1", "password": "p"})
    assert_invalid(both, "otp", "not both")


def test_a_sign_in_with_no_code_and_no_password_says_what_to_send(db: None) -> None:
    neither = Api().post("/auth/token", {"phone": "03451234567"})
    assert_invalid(neither, "otp", "send otp (the SMS code) or, for officials, password")
    assert "not both" not in neither.json()["errors"]["otp"]
    in_urdu = Api().client.post(
        "/api/v1/auth/token",
        {"phone": "03451234567"},
        content_type="application/json",
        headers={"Accept-Language": "ur"},
    )
    assert in_urdu.json()["errors"]["otp"] == "otp (SMS کوڈ) بھیجیں، یا افسران پاس ورڈ بھیجیں"


def test_a_wrong_cnic_is_named_and_a_right_one_stored_formatted(people: People) -> None:
    call_command("load_catalog", str(WSSC_CATALOG), verbosity=0)
    ayesha = Api(people.ayesha)
    wrong = apply(ayesha, service="water-tanker", data={"cnic": "17301-123456"})
    assert_invalid(wrong, "data.cnic", "is not a CNIC")

    right = apply(ayesha, service="water-tanker", data={"cnic": "1730112345671", "purpose": URDU})
    assert right.status_code == 201, right.json()
    assert right.json()["organization"]["code"] == "wssc-mardan"
    assert right.json()["data"] == {"cnic": "17301-1234567-1", "purpose": URDU}
    stored = Application.objects.get(tracking_no=right.json()["tracking_no"])
    assert stored.data["purpose"] == URDU


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"service": "moon-landing"}, "service"),
        ({"jurisdiction": "kp-nowhere"}, "jurisdiction"),
        ({"organization": "tma-atlantis"}, "organization"),
        ({"organization": "tma-takht-bhai"}, "service"),  # it offers no water connections
        ({"jurisdiction": "kp-mardan-takht-bhai"}, "jurisdiction"),  # no one offers it there
        ({"channel": "pigeon"}, "channel"),
        ({"location": {"lat": 51.5, "lng": -0.12}}, "location"),
        ({"location": {"lat": "north"}}, "location.lat"),
        ({"data": {"connection_size": "garden_hose"}}, "data.connection_size"),
        ({"data": {"connection_size": "half_inch", "colour": "blue"}}, "data.colour"),
        ({"data": "half_inch"}, "data"),
    ],
)
def test_an_unknown_or_wrong_value_is_named(
    people: People, overrides: dict[str, Any], field: str
) -> None:
    response = apply(Api(people.ayesha), documents=documents_of(people), **overrides)
    assert_invalid(response, field)
    assert not Application.objects.exists()


def test_a_missing_field_and_a_missing_document_are_named(people: People) -> None:
    response = apply(Api(people.ayesha), data={}, documents={"cnic_copy": upload(people.ayesha)})
    assert_invalid(response, "data.connection_size", "required")
    assert_invalid(response, "documents.affidavit", "required")
    missing_service = Api(people.ayesha).post("/applications", {"jurisdiction": "kp"})
    assert_invalid(missing_service, "service", "required")
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    "content", [b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, b"\x7fELF\x02\x01\x01" + b"\x00" * 64]
)
def test_an_executable_renamed_pdf_is_refused(people: People, content: bytes) -> None:
    response = Api(people.ayesha).upload(content, "cnic.pdf")
    assert_invalid(response, "file", "not a PDF, JPEG or PNG", code="file_refused")
    assert not Attachment.objects.exists()


def test_an_11_mb_file_is_refused(people: People) -> None:
    big = b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)
    response = Api(people.ayesha).upload(big, "big.pdf")
    assert_invalid(response, "file", "at most 10 MB", code="file_refused")
    assert not Attachment.objects.exists()


def test_an_upload_lasts_a_day(people: People) -> None:
    ayesha = Api(people.ayesha)
    documents = documents_of(people)
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        response = apply(ayesha, documents=documents)
    assert_invalid(response, "documents.cnic_copy", "expired")
    assert_invalid(response, "documents.affidavit", "expired")
    assert apply(ayesha, documents=documents).status_code == 201


def test_someone_elses_upload_cannot_be_used(people: People) -> None:
    theirs = {"cnic_copy": upload(people.bilal), "affidavit": upload(people.ayesha)}
    assert_invalid(apply(Api(people.ayesha), documents=theirs), "documents.cnic_copy")
    not_an_id = {"cnic_copy": "xyz", "affidavit": upload(people.ayesha)}
    assert_invalid(apply(Api(people.ayesha), documents=not_an_id), "documents.cnic_copy")


def test_a_comment_of_20000_characters_is_refused(people: People) -> None:
    application = water_connection(people)
    before = Event.objects.count()
    response = Api(people.ayesha).post(
        f"/applications/{application.tracking_no}/comments", {"text": "ا" * 20_000}
    )
    assert_invalid(response, "text", "at most 5000 characters")
    assert Event.objects.count() == before
    empty = Api(people.ayesha).post(f"/applications/{application.tracking_no}/comments", {})
    assert_invalid(empty, "text", "required")


def test_urdu_round_trips_unchanged(people: People) -> None:
    application = water_connection(people)
    ayesha = Api(people.ayesha)
    posted = ayesha.post(f"/applications/{application.tracking_no}/comments", {"text": URDU})
    assert posted.status_code == 201
    assert posted.json()["text"] == URDU
    assert URDU.encode() in posted.content  # sent as UTF-8, not \u escapes
    timeline = ayesha.get(f"/applications/{application.tracking_no}/events").json()
    assert timeline[-1]["text"] == URDU
    assert Event.objects.get(pk=posted.json()["id"]).text == URDU

    address = "مکان نمبر 12، باغ ارم"
    submitted = apply(ayesha, documents=documents_of(people), location={"address": address})
    assert submitted.json()["location"] == {"address": address}


def test_actions_name_what_is_missing(people: People) -> None:
    number = water_connection(people).tracking_no
    kamran = Api(people.kamran)
    path = f"/applications/{number}/actions"
    assert_invalid(kamran.post(path, {"action": "fly"}), "action", code="unknown_action")
    assert_invalid(kamran.post(path, {"action": "return"}), "comment", code="comment_required")
    assert_invalid(kamran.post(path, {}), "action", "required")
    assert_invalid(
        kamran.post(path, {"action": "forward", "documents": {"cnic_copy": "nope"}}),
        "documents.cnic_copy",
    )
    assert Application.objects.get(tracking_no=number).state == "scrutiny"


def test_a_moved_or_closed_application_is_a_conflict(people: People) -> None:
    number = water_connection(people).tracking_no
    kamran = Api(people.kamran)
    path = f"/applications/{number}/actions"
    stale = kamran.post(path, {"action": "forward", "state": "site_inspection"})
    assert stale.status_code == 409 and stale.json()["code"] == "changed"
    rejected = kamran.post(path, {"action": "reject", "comment": "Not in our area."})
    assert rejected.status_code == 200
    closed = kamran.post(path, {"action": "forward"})
    assert closed.status_code == 409 and closed.json()["code"] == "closed"
    withdrawn = Api(people.ayesha).post(path, {"action": "withdraw"})
    assert withdrawn.status_code == 409


def test_assigning_to_an_unknown_number_names_the_field(people: People) -> None:
    number = water_connection(people).tracking_no
    tariq = Api(people.tariq)
    assert_invalid(tariq.post(f"/applications/{number}/assign", {"user": "12"}), "user")
    assert_invalid(tariq.post(f"/applications/{number}/assign", {"user": "03451231231"}), "user")
    not_a_clerk = tariq.post(f"/applications/{number}/assign", {"user": people.sana.phone})
    assert_invalid(not_a_clerk, "user", "holds no clerk posting")
    assigned = tariq.post(f"/applications/{number}/assign", {"user": people.kamran.phone})
    assert assigned.status_code == 200
    assert assigned.json()["step"]["assignee"] == "Kamran Ali"


def test_malformed_requests_get_json_errors(people: People) -> None:
    ayesha = Api(people.ayesha)
    broken = ayesha.client.post(
        "/api/v1/applications", "{not json", content_type="application/json"
    )
    assert broken.status_code == 400 and broken.json()["code"] == "bad_request"
    bad_query = ayesha.get("/applications", limit=0, category="lost", submitted_from="May")
    assert_invalid(bad_query, "limit")
    assert set(bad_query.json()["errors"]) == {"limit", "category", "submitted_from"}
    nowhere = ayesha.get("/no/such/endpoint")
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "not_found"
    missing = ayesha.get("/applications/MDN-26-999999")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    number = water_connection(people).tracking_no
    for document_id in ("not-a-uuid", "5f0c7d1e-0000-4000-8000-000000000000"):
        response = ayesha.client.get(f"/api/v1/applications/{number}/documents/{document_id}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    no_file = ayesha.client.post("/api/v1/uploads", {})
    assert_invalid(no_file, "file", "required")
    for path in ("/api/v1/uploads", "/api/v1/applications"):  # a form without its boundary
        unreadable = ayesha.client.post(path, b"--x\r\n", content_type="multipart/form-data")
        assert unreadable.status_code == 400, unreadable.content
        assert "The form could not be read" in unreadable.json()["detail"]
    assert upload(people.ayesha, PDF)  # the helper still works after all that


def test_a_body_over_a_megabyte_is_413(people: People) -> None:
    number = water_connection(people).tracking_no
    response = Api(people.ayesha).post(
        f"/applications/{number}/comments", {"text": "x" * (2 * 1024 * 1024)}
    )
    assert response.status_code == 413 and response.json()["code"] == "too_large"


JUNK: list[Any] = [None, 0, -1, 1e300, "", "x", "٣", [], [1], {}, {"a": 1}, True, "x" * 600]
FIELDS = [
    "service", "jurisdiction", "organization", "data", "location", "documents", "channel",
    "action", "comment", "assignee", "state", "text", "internal", "user", "phone", "otp",
    "password", "name",
]  # fmt: skip


def test_junk_gets_a_json_4xx_never_a_500(people: People) -> None:
    number = water_connection(people).tracking_no
    callers = [Api(people.kamran), Api(people.ayesha)]
    paths = [
        "/applications",
        *(
            f"/applications/{number}/{end}"
            for end in ("actions", "comments", "assign", "documents")
        ),
        "/auth/otp",
        "/auth/token",
    ]
    pick = random.Random(2026)
    failures = []
    for _ in range(300):
        body = {key: pick.choice(JUNK) for key in pick.sample(FIELDS, pick.randint(0, 6))}
        if pick.random() < 0.3:
            body["data"] = {pick.choice(["connection_size", "x"]): pick.choice(JUNK)}
        if pick.random() < 0.3:
            body["documents"] = {pick.choice(["cnic_copy", "zzz"]): pick.choice(JUNK)}
        path = pick.choice(paths)
        response = pick.choice(callers).post(path, body)
        if not 200 <= response.status_code < 500 or response["Content-Type"] != JSON_TYPE:
            failures.append((path, body, response.status_code))
    assert failures == []


FORM = {
    "service": "water-connection",
    "jurisdiction": "kp-mardan-mardan-nc-1",
    "data": {"connection_size": "half_inch"},
}
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_a_submission_with_files_names_each_problem_and_stores_nothing(
    people: People, settings: Any
) -> None:
    ayesha = Api(people.ayesha)
    media = Path(settings.MEDIA_ROOT)
    refused = ayesha.submit_form(
        {**FORM, "data": {}},
        {"cnic_copy": ("cnic.pdf", EXE), "receipt": ("receipt.pdf", PDF)},
    )
    assert_invalid(refused, "data.connection_size", "required")
    assert_invalid(refused, "documents.cnic_copy", "not a PDF, JPEG or PNG")
    assert_invalid(refused, "documents.receipt", "not asked for here")
    assert_invalid(refused, "documents.affidavit", "required")

    twice = ayesha.submit_form(
        {**FORM, "documents": {"cnic_copy": upload(people.ayesha)}},
        {"cnic_copy": ("cnic.pdf", PDF), "affidavit": ("affidavit.pdf", PDF)},
    )
    assert_invalid(twice, "documents.cnic_copy", "sent twice")
    big = b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)
    too_big = ayesha.submit_form(
        FORM, {"cnic_copy": ("cnic.pdf", big), "affidavit": ("affidavit.pdf", PDF)}
    )
    assert_invalid(too_big, "documents.cnic_copy", "at most 10 MB")

    no_json = ayesha.client.post(
        "/api/v1/applications", {"cnic_copy": SimpleUploadedFile("cnic.pdf", PDF)}
    )
    assert_invalid(no_json, "application", "required")
    broken = ayesha.client.post("/api/v1/applications", {"application": "{not json"})
    assert broken.status_code == 400 and broken.json()["code"] == "bad_request"
    not_an_object = ayesha.client.post("/api/v1/applications", {"application": "[1]"})
    assert not_an_object.status_code == 422 and not_an_object.json()["code"] == "invalid_input"
    unknown_service = ayesha.submit_form(
        {**FORM, "service": "moon-landing"}, {"cnic_copy": ("cnic.pdf", PDF)}
    )
    assert_invalid(unknown_service, "service", "moon-landing")
    two_files = ayesha.client.post(
        "/api/v1/applications",
        {
            "application": json.dumps(FORM),
            "cnic_copy": [SimpleUploadedFile("a.pdf", PDF), SimpleUploadedFile("b.pdf", PDF)],
        },
    )
    assert_invalid(two_files, "documents.cnic_copy", "one file per document")

    assert not Application.objects.exists()
    assert Attachment.objects.count() == 1  # the upload named above, still held
    assert len(stored_files(media)) == 1


def test_a_submission_that_fails_after_its_files_are_written_deletes_them(
    people: People, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files are written with their rows; if the submission then fails (here: the
    tracking number), the rows roll back and the files are deleted too."""

    def no_number(*args: Any) -> None:
        raise RuntimeError("the counter is gone")

    monkeypatch.setattr(actions, "_number", no_number)
    ayesha = Api(people.ayesha)
    files = {"cnic_copy": ("cnic.pdf", PDF), "affidavit": ("affidavit.pdf", PDF)}
    assert ayesha.submit_form(FORM, files).status_code == 500
    assert not Application.objects.exists() and not Attachment.objects.exists()
    assert stored_files(Path(settings.MEDIA_ROOT)) == []

    monkeypatch.undo()
    assert ayesha.submit_form(FORM, files).status_code == 201
    assert len(stored_files(Path(settings.MEDIA_ROOT))) == 2
