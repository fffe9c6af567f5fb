"""The detail's offer of actions, and the special action names and `assignee` of /actions."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from ocsc.cases.models import Application, Event
from tests.api.conftest import Api
from tests.personas import People, upload, water_connection


def detail(api: Api, number: str) -> dict:
    response = api.get(f"/applications/{number}")
    assert response.status_code == 200, response.json()
    body: dict = response.json()
    return body


def test_each_caller_is_offered_what_they_may_do(people: People) -> None:
    number = water_connection(people).tracking_no
    offers = {
        name: detail(Api(getattr(people, name)), number)
        for name in ("ayesha", "kamran", "sana", "tariq", "maryam")
    }
    actions = {name: sorted(a["action"] for a in d["actions"]) for name, d in offers.items()}
    assert actions == {
        "ayesha": [],
        "kamran": ["forward", "reject", "return"],
        "sana": [],
        "tariq": ["forward", "reject", "return"],  # the head acts for the clerk
        "maryam": [],
    }
    flags = {
        name: (d["can_comment"], d["can_withdraw"], d["can_assign"]) for name, d in offers.items()
    }
    assert flags == {
        "ayesha": (True, True, False),
        "kamran": (True, False, False),
        "sana": (True, False, False),
        "tariq": (True, False, True),
        "maryam": (False, False, False),
    }
    step = offers["ayesha"]["step"]
    assert step["owner"]["code"] == "clerk" and step["overdue"] is False
    assert step["name"] == {"en": "Scrutiny"} and step["assignee"] is None
    assert {d["requirement"] for d in offers["ayesha"]["documents"]} == {"cnic_copy", "affidavit"}


def test_withdraw_is_the_applicants_whatever_the_step(people: People) -> None:
    application = water_connection(people)
    path = f"/applications/{application.tracking_no}/actions"
    body = {"action": "withdraw", "comment": "Moved house."}
    withdrawn = Api(people.ayesha).post(path, body)
    assert withdrawn.status_code == 200
    assert (withdrawn.json()["state"], withdrawn.json()["category"]) == (
        "withdrawn",
        "closed_withdrawn",
    )
    assert withdrawn.json()["can_withdraw"] is False
    event = Event.objects.filter(application=application).order_by("-pk").first()
    assert event is not None
    assert (event.kind, event.text, event.actor_role) == (
        "application.withdrawn",
        "Moved house.",
        "citizen",
    )


def test_resubmit_names_the_citizens_way_back(people: People) -> None:
    application = water_connection(people)
    path = f"/applications/{application.tracking_no}/actions"
    too_early = Api(people.ayesha).post(path, {"action": "resubmit"})
    assert too_early.status_code == 422
    assert too_early.json()["code"] == "unknown_action"
    assert "not waiting for a correction" in too_early.json()["detail"]
    Api(people.kamran).post(path, {"action": "return", "comment": "Sign the undertaking."})
    back = Api(people.ayesha).post(
        path, {"action": "resubmit", "documents": {"affidavit": upload(people.ayesha)}}
    )
    assert back.status_code == 200 and back.json()["state"] == "scrutiny"
    event = application.events.order_by("-pk").first()
    assert event is not None
    assert (event.kind, event.action, event.data["documents"]) == (
        "application.resubmitted",
        "resubmit",
        ["affidavit"],
    )


def test_documents_attached_first_count_for_the_step(people: People) -> None:
    application = water_connection(people)
    number = application.tracking_no
    Api(people.kamran).post(f"/applications/{number}/actions", {"action": "forward"})
    sana = Api(people.sana)
    attached = sana.post(
        f"/applications/{number}/documents",
        {"documents": {"inspection_report": upload(people.sana)}},
    )
    assert attached.status_code == 201
    assert (
        attached.json()["kind"] == "documents.attached" and len(attached.json()["documents"]) == 1
    )
    assert detail(sana, number)["actions"][0]["documents_required"] == []
    moved = sana.post(f"/applications/{number}/actions", {"action": "recommend"})
    assert moved.status_code == 200 and moved.json()["state"] == "approval"
    empty = sana.post(f"/applications/{number}/documents", {"documents": {}})
    assert empty.status_code == 422 and "documents" in empty.json()["errors"]


def test_an_action_may_assign_the_next_step_in_the_same_transaction(people: People) -> None:
    application = water_connection(people)
    path = f"/applications/{application.tracking_no}/actions"
    by_clerk = Api(people.kamran).post(path, {"action": "forward", "assignee": people.sana.phone})
    assert by_clerk.status_code == 403  # a clerk does not supervise the sub-engineer...
    assert Application.objects.get(pk=application.pk).state == "scrutiny"  # ...so nothing moved
    assert not application.events.filter(kind="step.action").exists()

    by_head = Api(people.tariq).post(path, {"action": "forward", "assignee": people.sana.phone})
    assert by_head.status_code == 200
    assert by_head.json()["state"] == "site_inspection"
    assert by_head.json()["step"]["assignee"] == "Sana Gul"
    kinds = list(application.events.order_by("pk").values_list("kind", "actor_role"))
    assert kinds[-2:] == [("step.action", "tmo"), ("step.assigned", "tmo")]
    queue = Api(people.sana).get("/queue").json()
    assert [(i["tracking_no"], i["assignee"]) for i in queue["items"]] == [
        (application.tracking_no, "Sana Gul")
    ]


def test_an_action_and_its_assignment_claim_the_application_once(people: People) -> None:
    """One transaction, no savepoint inside it, and one write of the application's row: the
    move onto the new step, only if it is still at the step the caller saw (the claim). The
    new step is written assigned, and both Events in one statement."""
    application = water_connection(people)
    path = f"/applications/{application.tracking_no}/actions"
    head = Api(people.tariq)
    head.get("/queue")  # the token's first use is noted once; not part of what is counted
    with CaptureQueriesContext(connection) as run:
        moved = head.post(path, {"action": "forward", "assignee": people.sana.phone})
    assert moved.status_code == 200 and moved.json()["step"]["assignee"] == "Sana Gul"
    statements = [q["sql"] for q in run.captured_queries]
    # The test's own transaction makes the view's outermost block a savepoint: that one only.
    assert sum(sql.startswith("SAVEPOINT") for sql in statements) == 1
    claims = [s for s in statements if 'UPDATE "cases_application"' in s]
    assert len(claims) == 1, claims
    assert f'AND "current_step_id" = {application.current_step_id}' in claims[0]
    # The step left is closed in that statement on PostgreSQL (`compiled.updates`).
    closes = [s for s in statements if 'UPDATE "cases_step" SET "left_at"' in s]
    assert len(closes) == 1
    assert (closes == claims) == (connection.vendor == "postgresql")
    assert not [s for s in statements if 'UPDATE "cases_step" SET "assignee_id"' in s]
    # The assignee's postings come with the assignee, as the caller's with the token.
    assert not [s for s in statements if "FROM accounts_posting p" in s]
    events = [s for s in statements if s.startswith('INSERT INTO "cases_event"')]
    assert len(events) == 1 and events[0].count("step.") == 2, events  # action, assignment


def test_a_withdrawal_with_an_assignee_is_refused_whole(people: People) -> None:
    application = water_connection(people)
    path = f"/applications/{application.tracking_no}/actions"
    refused = Api(people.ayesha).post(path, {"action": "withdraw", "assignee": people.sana.phone})
    assert refused.status_code == 403 and refused.json()["code"] == "not_allowed"
    assert Application.objects.get(pk=application.pk).state == "scrutiny"  # not withdrawn
    assert not application.events.filter(kind="application.withdrawn").exists()


def test_a_submission_answers_with_its_documents_without_reading_them_again(
    people: People,
) -> None:
    """The answer to a submission lists the documents it was given, as opening it later does,
    from the rows the submission has just written: no read of the attachments after them."""
    citizen = Api(people.ayesha)
    uploads = {
        code: citizen.upload(b"%PDF-1.4 " + code.encode()) for code in ("cnic_copy", "affidavit")
    }
    body = {
        "service": "water-connection",
        "organization": "tma-mardan",
        "jurisdiction": "kp-mardan-mardan-nc-1",
        "data": {"connection_size": "half_inch"},
        "documents": {code: made.json()["upload_id"] for code, made in uploads.items()},
    }
    citizen.get("/applications")  # the token's first use is noted once; not counted
    with CaptureQueriesContext(connection) as run:
        made = citizen.post("/applications", body)
    assert made.status_code == 201, made.json()
    statements = [q["sql"] for q in run.captured_queries]
    linked = next(i for i, s in enumerate(statements) if s.startswith('UPDATE "cases_attachment"'))
    assert not [s for s in statements[linked:] if 'FROM "cases_attachment"' in s]
    opened = detail(citizen, made.json()["tracking_no"])
    assert made.json()["documents"] == opened["documents"]
    assert [d["requirement"] for d in opened["documents"]] == ["cnic_copy", "affidavit"]
    assert made.json()["actions"] == opened["actions"]


def test_an_application_is_read_with_its_documents_in_one_statement(people: People) -> None:
    """Opening an application, and acting on it, read its documents with it: the answer lists
    them as they are (those an action has just added included), in the order they came."""
    application = water_connection(people)
    number = application.tracking_no
    citizen = Api(people.ayesha)
    citizen.get("/applications")  # the token's first use is noted once; not counted
    with CaptureQueriesContext(connection) as run:
        opened = detail(citizen, number)
    reads = [q["sql"] for q in run.captured_queries if '"cases_attachment"' in q["sql"]]
    assert len(reads) == 1 and '"cases_application"' in reads[0], reads
    stored = application.attachments.order_by("created_at", "pk")
    assert [(d["id"], d["requirement"]) for d in opened["documents"]] == [
        (str(a.uuid), a.requirement) for a in stored
    ]
    returned = Api(people.kamran).post(
        f"/applications/{number}/actions", {"action": "return", "comment": "Sign it."}
    )
    assert returned.status_code == 200 and len(returned.json()["documents"]) == 2
    back = citizen.post(
        f"/applications/{number}/actions",
        {"action": "resubmit", "documents": {"affidavit": upload(people.ayesha)}},
    )
    assert back.status_code == 200, back.json()
    assert [d["requirement"] for d in back.json()["documents"]] == [
        "cnic_copy",
        "affidavit",
        "affidavit",
    ]
    assert back.json()["documents"] == detail(citizen, number)["documents"]
