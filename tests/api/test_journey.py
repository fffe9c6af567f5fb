"""Acceptance: a water connection from sign-in to connection, through the API only."""

from datetime import datetime

from ocsc.cases.models import Application, Attachment, Event
from tests.api.conftest import Api, sms_code
from tests.personas import PDF, PNG, People

NEW_CITIZEN = "0345-1234567"
ADDRESS = "مکان نمبر 12، باغ ارم، مردان"


def sign_in_by_sms(phone: str) -> tuple[Api, dict]:
    anonymous = Api()
    sent = anonymous.post("/auth/otp", {"phone": phone})
    assert sent.status_code == 202, sent.json()
    signed = anonymous.post(
        "/auth/token", {"phone": phone, "otp": sms_code("+923451234567"), "name": "my phone"}
    )
    assert signed.status_code == 200, signed.json()
    body = signed.json()
    return Api(key=body["token"]), body


def sign_in_by_password(phone: str) -> Api:
    signed = Api().post("/auth/token", {"phone": phone, "password": "pw-official-2026"})
    assert signed.status_code == 200, signed.json()
    return Api(key=signed.json()["token"])


def uploaded(api: Api, content: bytes = PDF, name: str = "scan.pdf") -> str:
    response = api.upload(content, name)
    assert response.status_code == 201, response.json()
    return response.json()["upload_id"]


def act(api: Api, tracking_no: str, action: str, **body: object) -> dict:
    response = api.post(f"/applications/{tracking_no}/actions", {"action": action, **body})
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_water_connection_from_sign_in_to_connection(people: People) -> None:
    citizen, signed = sign_in_by_sms(NEW_CITIZEN)
    assert signed["user"]["phone"] == "+923451234567"
    assert citizen.get("/me").json()["postings"] == []

    service = Api().get("/organizations/tma-mardan/services/water-connection").json()
    at_submission = [
        r["code"] for r in service["requirements"] if r["collected_at"] == "submission"
    ]
    assert at_submission == ["cnic_copy", "affidavit"]

    submitted = citizen.post(
        "/applications",
        {
            "service": "water-connection",
            "jurisdiction": "kp-mardan-mardan-nc-1",
            "data": {"connection_size": "half_inch"},
            "location": {"lat": 34.2, "lng": 72.04, "address": ADDRESS},
            "documents": {
                "cnic_copy": uploaded(citizen),
                "affidavit": uploaded(citizen, PNG, "undertaking.png"),
            },
        },
    )
    assert submitted.status_code == 201, submitted.json()
    application = submitted.json()
    number = application["tracking_no"]
    assert application["organization"]["code"] == "tma-mardan"  # routed from the area
    assert (application["state"], application["channel"]) == ("scrutiny", "api")
    assert application["location"]["address"] == ADDRESS
    assert application["actions"] == [] and application["can_withdraw"] is True

    kamran = sign_in_by_password("03003333333")
    seen = kamran.get(f"/applications/{number}").json()
    offered = [(a["action"], a["comment_required"]) for a in seen["actions"]]
    assert offered == [("forward", False), ("return", True), ("reject", True)]
    note = kamran.post(
        f"/applications/{number}/comments",
        {"text": "Called the applicant: the CNIC copy is blurred.", "internal": True},
    )
    assert note.status_code == 201 and note.json()["visibility"] == "internal"
    returned = act(kamran, number, "return", comment="Please upload a clear copy of your CNIC.")
    assert (returned["state"], returned["category"]) == ("correction", "waiting_citizen")

    mine = citizen.get(f"/applications/{number}").json()
    assert [a["action"] for a in mine["actions"]] == ["resubmit"]
    resubmitted = act(
        citizen,
        number,
        "resubmit",
        comment="A clear copy.",
        documents={"cnic_copy": uploaded(citizen)},
    )
    assert resubmitted["state"] == "scrutiny"
    act(kamran, number, "forward")

    sana = sign_in_by_password("03004444444")
    inspection = sana.get(f"/applications/{number}").json()
    assert inspection["actions"][0]["documents_required"] == ["inspection_report"]
    refused = sana.post(f"/applications/{number}/actions", {"action": "recommend"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "documents_missing"
    assert refused.json()["missing"] == ["inspection_report"]
    assert "documents" in refused.json()["errors"]
    report = uploaded(sana, PDF, "inspection.pdf")
    act(sana, number, "recommend", documents={"inspection_report": report})

    act(sign_in_by_password("03005555555"), number, "approve")

    to_pay = citizen.get(f"/applications/{number}").json()
    assert to_pay["state"] == "payment"
    assert to_pay["challan"]["amount"] == "1000.00"
    assert to_pay["challan"]["currency"] == "PKR"
    assert to_pay["challan"]["reference"].startswith(number)
    act(citizen, number, "pay")
    act(sign_in_by_password("03006666666"), number, "confirm")
    done = act(sana, number, "complete")
    assert (done["state"], done["category"], done["outcome"]) == (
        "connected",
        "closed_ok",
        "approved",
    )
    assert done["step"] is None and done["closed_at"] is not None and done["actions"] == []

    row = Application.objects.get(tracking_no=number)
    assert (row.state, row.category, row.channel) == ("connected", "closed_ok", "api")
    assert [s.state for s in row.steps.order_by("entered_at", "pk")] == [
        "scrutiny", "correction", "scrutiny", "site_inspection", "approval", "payment",
        "payment_check", "installation",
    ]  # fmt: skip
    assert all(step.left_at is not None for step in row.steps.all())

    officials_view = kamran.get(f"/applications/{number}/events").json()
    moves = [
        (e["kind"], e["actor"], e["actor_role"], e["from_state"], e["to_state"])
        for e in officials_view
        if e["kind"] != "comment.added"
    ]
    applicant = "+923451234567"  # a citizen who gave no name is shown by number
    assert moves == [
        ("application.submitted", applicant, "citizen", "", "scrutiny"),
        ("step.action", "Kamran Ali", "clerk", "scrutiny", "correction"),
        ("application.resubmitted", applicant, "citizen", "correction", "scrutiny"),
        ("step.action", "Kamran Ali", "clerk", "scrutiny", "site_inspection"),
        ("step.action", "Sana Gul", "sub_engineer", "site_inspection", "approval"),
        ("step.action", "Imran Shah", "to_infra", "approval", "payment"),
        ("step.action", applicant, "citizen", "payment", "payment_check"),
        ("step.action", "Nadia Bibi", "accountant", "payment_check", "installation"),
        ("step.action", "Sana Gul", "sub_engineer", "installation", "connected"),
    ]
    assert all(datetime.fromisoformat(e["created_at"]) for e in officials_view)
    notes = [e for e in officials_view if e["visibility"] == "internal"]
    assert [n["text"] for n in notes] == ["Called the applicant: the CNIC copy is blurred."]
    assert officials_view[2]["text"] == "Please upload a clear copy of your CNIC."

    citizens_view = citizen.get(f"/applications/{number}/events").json()
    assert all(e["visibility"] == "public" for e in citizens_view)
    assert [e["id"] for e in citizens_view] == [e["id"] for e in officials_view if e not in notes]
    assert Event.objects.filter(application=row).count() == len(officials_view)

    recommended = next(e for e in citizens_view if e["action"] == "recommend")
    assert recommended["documents"] == [report]
    document = citizen.client.get(f"/api/v1/applications/{number}/documents/{report}")
    assert document.status_code == 200
    assert document["Content-Type"] == "application/pdf"
    assert document["Content-Disposition"].startswith("inline")
    assert document["X-Content-Type-Options"] == "nosniff"
    assert b"".join(document.streaming_content) == PDF
    assert Attachment.objects.get(uuid=report).requirement == "inspection_report"

    later = citizen.get(f"/applications/{number}/events", after=citizens_view[-2]["id"]).json()
    assert [e["id"] for e in later] == [citizens_view[-1]["id"]]


def test_a_submission_can_bring_its_documents_in_one_request(people: People) -> None:
    """The mobile app on a slow line: the form (JSON) and both files in one multipart
    request, instead of two uploads and a submission; the same application results."""
    citizen = Api(people.ayesha)
    submission = {
        "service": "water-connection",
        "jurisdiction": "kp-mardan-mardan-nc-1",
        "data": {"connection_size": "half_inch"},
        "channel": "mobile",
    }
    files = {"cnic_copy": ("cnic.pdf", PDF), "affidavit": ("undertaking.png", PNG)}
    submitted = citizen.submit_form(submission, files)
    assert submitted.status_code == 201, submitted.json()
    application = submitted.json()
    assert (application["state"], application["channel"]) == ("scrutiny", "mobile")
    documents = {d["requirement"]: d for d in application["documents"]}
    assert {code: (d["filename"], d["size"]) for code, d in documents.items()} == {
        "cnic_copy": ("cnic.pdf", len(PDF)),
        "affidavit": ("undertaking.png", len(PNG)),
    }
    assert documents["affidavit"]["content_type"] == "image/png"

    number = application["tracking_no"]
    for code, (_name, content) in files.items():
        sent = citizen.client.get(
            f"/api/v1/applications/{number}/documents/{documents[code]['id']}"
        )
        assert sent.status_code == 200 and b"".join(sent.streaming_content) == content
    submitted_event = Event.objects.get(application__tracking_no=number, kind=Event.Kind.SUBMITTED)
    assert submitted_event.data["documents"] == ["affidavit", "cnic_copy"]
    stored = Attachment.objects.filter(application__tracking_no=number)
    assert {(a.requirement, a.event_id, a.uploaded_by_id) for a in stored} == {
        ("cnic_copy", submitted_event.pk, people.ayesha.pk),
        ("affidavit", submitted_event.pk, people.ayesha.pk),
    }
    assert Attachment.objects.count() == 2  # no upload left behind unbound

    # A file and an upload id can be mixed: the upload named, the other sent.
    mixed = citizen.submit_form(
        {**submission, "documents": {"cnic_copy": uploaded(citizen)}},
        {"affidavit": ("affidavit.pdf", PDF)},
    )
    assert mixed.status_code == 201, mixed.json()
    assert sorted(d["requirement"] for d in mixed.json()["documents"]) == [
        "affidavit",
        "cnic_copy",
    ]
