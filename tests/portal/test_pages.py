"""The citizen pages: who may see them, what they show, and the whole apply journey."""

import re
from typing import Any

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from ocsc.cases.actions import add_comment, escalate_step, take_action
from ocsc.cases.models import Application
from ocsc.notify.models import SmsMessage
from tests.personas import PDF, People, upload, water_connection

pytestmark = pytest.mark.django_db


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_home_search_and_service_page(client: Client, mini_catalog: None) -> None:
    page = client.get("/", {"q": "water"}).content.decode()
    assert "New water supply connection" in page and "Garbage not collected" not in page

    response = client.get("/services/tma-mardan/water-connection/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Provided by" in page and "TMA Mardan" in page
    assert "Dealing Assistant" in page and "Check that the documents are complete" in page
    assert "I will not tap the line illegally." in page  # the affidavit text to print
    assert "Inspection report" in page  # collected later, named
    # The steps in the order the process describes them, on every database.
    order = [page.index(name) for name in ("Scrutiny", "Site inspection", "Approval", "Payment")]
    assert order == sorted(order)
    assert client.get("/services/tma-mardan/no-such-service/").status_code == 404


def test_sign_in_with_an_sms_code(client: Client, mini_catalog: None) -> None:
    response = client.post("/signin/", {"stage": "phone", "phone": "0300-1234567"})
    assert response.status_code == 200 and "We sent a 6-digit code" in response.content.decode()
    code = re.search(r"\d{6}", SmsMessage.objects.get().text).group(0)  # type: ignore[union-attr]

    other = f"{(int(code) + 1) % 1_000_000:06d}"
    wrong = client.post("/signin/", {"stage": "code", "phone": "+923001234567", "code": other})
    assert wrong.status_code == 422 and "Wrong code: 4 tries left" in wrong.content.decode()
    response = client.post(
        "/signin/",
        {"stage": "code", "phone": "+923001234567", "code": code, "next": "/applications/"},
    )
    assert (response.status_code, response["Location"]) == (302, "/applications/")
    assert client.get("/applications/").status_code == 200
    assert client.post("/signin/", {"stage": "phone", "phone": "12345"}).status_code == 422


def test_officials_sign_in_with_a_password(client: Client, people: People) -> None:
    bad = client.post(
        "/signin/", {"stage": "password", "phone": "03003333333", "password": "wrong"}
    )
    assert bad.status_code == 422
    good = client.post(
        "/signin/", {"stage": "password", "phone": "03003333333", "password": "pw-official-2026"}
    )
    assert good.status_code == 302


def test_apply_with_documents_review_and_submit(people: People) -> None:
    client = signed_in(people.ayesha)
    form = "/services/tma-mardan/water-connection/apply/"
    assert "connection_size" in client.get(form).content.decode()

    fragment = client.post("/uploads/", {"requirement": "cnic_copy", "file": _file("cnic.pdf")})
    assert fragment.status_code == 200
    cnic = re.search(r'value="([0-9a-f-]{36})"', fragment.content.decode()).group(1)  # type: ignore[union-attr]
    refused = client.post(
        "/uploads/", {"requirement": "affidavit", "file": _file("x.pdf", b"MZ\x90")}
    )
    assert refused.status_code == 422 and "not a PDF, JPEG or PNG" in refused.content.decode()

    incomplete = client.post(form, {"stage": "review", "jurisdiction": "kp-mardan-mardan-nc-1"})
    assert incomplete.status_code == 422
    page = incomplete.content.decode()
    assert "Connection size is required" in page and "This document is required." in page

    fields = {
        "jurisdiction": "kp-mardan-mardan-nc-1",
        "data.connection_size": "half_inch",
        "documents.cnic_copy": cnic,
        "file.affidavit": _file("affidavit.pdf"),
    }
    review = client.post(form, {**fields, "stage": "review"})
    assert review.status_code == 200 and "Check and submit" in review.content.decode()
    affidavit = re.search(
        r'name="documents.affidavit" value="([0-9a-f-]{36})"', review.content.decode()
    ).group(1)  # type: ignore[union-attr]

    response = client.post(
        form, {**fields, "file.affidavit": "", "documents.affidavit": affidavit, "stage": "submit"}
    )

    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/applications/{application.tracking_no}/?submitted=1"
    page = client.get(response["Location"]).content.decode()
    assert application.tracking_no in page and "Your application has been submitted." in page
    assert application.attachments.count() == 2


def _file(name: str, content: bytes = PDF) -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("ayesha", 200),
        ("bilal", 404),
        ("kamran", 200),
        ("sana", 200),
        ("tariq", 200),
        ("faisal", 404),
        ("zeb", 404),
        ("maryam", 200),
    ],
)
def test_who_may_open_an_application_page(people: People, who: str, status: int) -> None:
    application = water_connection(people)
    client = Client() if who == "anonymous" else signed_in(getattr(people, who))

    response = client.get(f"/applications/{application.tracking_no}/")

    assert response.status_code == status
    if who == "anonymous":
        assert response["Location"].startswith("/signin/")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("ayesha", 403),
        ("bilal", 404),
        ("sana", 403),
        ("maryam", 403),
        ("zeb", 404),
        ("kamran", 302),
        ("tariq", 302),
    ],
)
def test_who_may_act_from_the_page(people: People, who: str, status: int) -> None:
    application = water_connection(people)
    response = signed_in(getattr(people, who)).post(
        f"/applications/{application.tracking_no}/act/", {"action": "forward"}
    )
    assert response.status_code == status
    application.refresh_from_db()
    assert application.state == ("site_inspection" if status == 302 else "scrutiny")


def test_internal_notes_stay_with_staff_and_citizens_comment(people: People) -> None:
    application = water_connection(people)
    add_comment(application, actor=people.kamran, text="Arrears on this plot.", internal=True)
    citizen = signed_in(people.ayesha)

    response = citizen.post(
        f"/applications/{application.tracking_no}/comment/", {"text": "براہ کرم جلدی کریں"}
    )

    assert response.status_code == 302
    mine = citizen.get(f"/applications/{application.tracking_no}/").content.decode()
    assert "براہ کرم جلدی کریں" in mine and "Arrears on this plot." not in mine
    staff = signed_in(people.kamran).get(f"/applications/{application.tracking_no}/")
    assert "Arrears on this plot." in staff.content.decode()
    partial = citizen.get(f"/applications/{application.tracking_no}/", {"partial": "timeline"})
    assert (
        partial.content.decode().lstrip().startswith("<ol")
        and "Arrears" not in partial.content.decode()
    )


def test_the_timeline_says_to_whom_a_step_was_assigned_and_escalated(people: People) -> None:
    application = water_connection(people)
    take_action(application, actor=people.tariq, action="forward", assign_to=people.sana)
    step = application.current_step
    assert step is not None
    escalate_step(step, level=1)
    path = f"/applications/{application.tracking_no}/"

    staff = signed_in(people.tariq).get(path).content.decode()
    assert "Assigned</strong> · to Sana Gul" in staff
    assert (
        "Escalated</strong> · to Tehsil Officer (Infrastructure &amp; Services), level 1" in staff
    )
    in_urdu = signed_in(people.tariq)
    in_urdu.post("/language/", {"language": "ur"})
    assert "Sana Gul کو" in in_urdu.get(path).content.decode()
    citizen = signed_in(people.ayesha).get(path).content.decode()
    assert "Sana Gul" not in citizen  # internal: staff only


def test_documents_are_served_only_to_those_who_see_the_application(people: People) -> None:
    application = water_connection(people)
    document = application.attachments.first()
    assert document is not None
    url = f"/applications/{application.tracking_no}/documents/{document.uuid}/"

    response = signed_in(people.ayesha).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    assert signed_in(people.bilal).get(url).status_code == 404
    assert Client().get(url).status_code == 302


def test_tracking_by_number_shows_state_but_nothing_personal(
    client: Client, people: People
) -> None:
    application = water_connection(people)

    found = client.get("/track/", {"tracking_no": application.tracking_no.lower(), "phone": "1111"})
    wrong = client.get("/track/", {"tracking_no": application.tracking_no, "phone": "2222"})

    page = found.content.decode()
    assert found.status_code == 200
    assert "In progress" in page and "Current step: scrutiny" in page
    assert application.tracking_no in page
    assert "Ayesha" not in page and "Bagh-e-Iram" not in page and "House 12" not in page
    assert wrong.status_code == 404


def test_the_citizen_sees_the_fee_and_pays(people: People) -> None:
    application = water_connection(people)
    take_action(application, actor=people.kamran, action="forward")
    application.refresh_from_db()
    take_action(
        Application.objects.get(pk=application.pk),
        actor=people.sana,
        action="recommend",
        documents={"inspection_report": upload(people.sana)},
    )
    take_action(Application.objects.get(pk=application.pk), actor=people.imran, action="approve")
    citizen = signed_in(people.ayesha)

    page = citizen.get(f"/applications/{application.tracking_no}/").content.decode()
    assert "PKR 1,000" in page and f"{application.tracking_no}-4" in page and "I have paid" in page
    citizen.post(f"/applications/{application.tracking_no}/act/", {"action": "pay"})
    application.refresh_from_db()
    assert application.state == "payment_check"


def test_my_applications_runs_the_same_queries_for_few_and_many(
    people: People, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    client = signed_in(people.ayesha)
    for _ in range(3):
        water_connection(people)
    client.get("/applications/")  # warm the session
    # session, user, the page's rows, and the postings behind the navigation's staff links
    with django_assert_num_queries(4) as few:
        client.get("/applications/")
    for _ in range(12):
        water_connection(people)
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get("/applications/").content.decode()
    assert page.count("MDN-26-") == 15 * 2  # the link text and the number


def test_updates_list_the_in_app_notifications_and_mark_them_read(
    people: People, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        application = water_connection(people)
    with django_capture_on_commit_callbacks(execute=True):
        take_action(application, actor=people.kamran, action="return", comment="Blurred CNIC copy")
    client = signed_in(people.ayesha)

    page = client.get("/updates/").content.decode()

    assert "Blurred CNIC copy" in page and application.tracking_no in page
    assert page.count("list-group-item-info") == 2  # the receipt and the return, both new
    assert "list-group-item-info" not in client.get("/updates/").content.decode()


def test_the_language_switch_is_remembered(people: People) -> None:
    client = signed_in(people.bilal)
    response = client.post("/language/", {"language": "ur", "next": "/"})
    assert response.status_code == 302
    people.bilal.refresh_from_db()
    assert people.bilal.language == "ur"
    page = client.get("/").content.decode()
    assert 'dir="rtl"' in page


def test_the_app_manifest_and_worker(client: Client, mini_catalog: None) -> None:
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["short_name"] == "e-TMA" and manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}
    worker = client.get("/sw.js")
    assert worker["Content-Type"] == "application/javascript"
    assert "/offline/" in worker.content.decode()
    assert client.get("/offline/").status_code == 200
