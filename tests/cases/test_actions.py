"""The actions that move an application, through the real code, on a pinned clock."""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from ocsc.cases.access import NotAllowed
from ocsc.cases.actions import (
    ApplicationChanged,
    add_comment,
    assign,
    prune_unused_uploads,
    resubmit,
    take_action,
    withdraw,
)
from ocsc.cases.formdata import InvalidInput
from ocsc.cases.models import Application, Attachment, Event, Step, TrackingCounter
from ocsc.cases.queries import work_queue
from ocsc.catalog.models import Jurisdiction
from ocsc.notify.timers import run_timers
from ocsc.workflow import ActionRefused
from tests.personas import PNG, People, upload, water_connection

pytestmark = pytest.mark.django_db
PKT = ZoneInfo("Asia/Karachi")
MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=PKT)  # Mon 7 Dec 2026, 09:00 in Mardan


def reread(application: Application) -> Application:
    return Application.objects.select_related("current_step", "organization", "service").get(
        pk=application.pk
    )


@time_machine.travel(MONDAY_9, tick=False)
def test_submission_numbers_routes_and_opens_the_first_step(people: People) -> None:
    application = water_connection(people)

    application = reread(application)
    assert application.tracking_no == "MDN-26-000001"
    assert (application.state, application.category, application.channel) == (
        "scrutiny",
        "open",
        "web",
    )
    assert application.organization.code == "tma-mardan"
    assert application.data == {"connection_size": "half_inch"}
    step = application.current_step
    assert step is not None and step.owner_role == "clerk"
    assert step.due_at == datetime(2026, 12, 9, 9, 0, tzinfo=PKT)  # 2 working days
    assert application.due_at == datetime(2027, 1, 5, 9, 0, tzinfo=PKT)  # 20d, 25 Dec off
    [event] = application.events.all()
    assert (event.kind, event.actor, event.actor_role, event.to_state) == (
        "application.submitted",
        people.ayesha,
        "citizen",
        "scrutiny",
    )
    documents = {a.requirement: a for a in Attachment.objects.filter(application=application)}
    assert set(documents) == {"cnic_copy", "affidavit"}
    assert documents["cnic_copy"].content_type == "application/pdf"
    assert len(documents["cnic_copy"].sha256) == 64


@time_machine.travel(MONDAY_9, tick=False)
def test_numbers_are_taken_with_the_move_and_go_on_past_six_digits(people: People) -> None:
    first = water_connection(people)
    TrackingCounter.objects.filter(organization=first.organization).update(last=999_998)

    with CaptureQueriesContext(connection) as queries:
        second = water_connection(people)
    third = water_connection(people)

    assert [second.tracking_no, third.tracking_no] == ["MDN-26-999999", "MDN-26-1000000"]
    assert reread(third).tracking_no == "MDN-26-1000000"
    assert reread(third).state == "scrutiny"
    # The counter's update is the application's on PostgreSQL: one statement holds its lock
    # until the commit; elsewhere the move follows it.
    counted = [q["sql"] for q in queries if '"cases_trackingcounter"' in q["sql"]]
    assert len(counted) == 1
    assert ('UPDATE "cases_application"' in counted[0]) == (connection.vendor == "postgresql")


def test_bad_submissions_say_what_is_wrong_per_field_and_write_nothing(people: People) -> None:
    with pytest.raises(InvalidInput) as raised:
        water_connection(
            people,
            data={"connection_size": "three_inch", "colour": "blue"},
            documents={"cnic_copy": upload(people.ayesha)},
            jurisdiction=Jurisdiction.objects.get(code="kp-mardan-takht-bhai"),
        )

    assert raised.value.errors == {
        "jurisdiction": "kp-mardan-takht-bhai is not served by tma-mardan",
        "data.colour": "unknown field; this form has connection_size",
        "data.connection_size": "'three_inch' is not one of half_inch, one_inch",
        "documents.affidavit": "this document is required",
    }
    assert Application.objects.count() == 0
    # The failed submission used no tracking number: the next one is still the first.
    assert water_connection(people).tracking_no.endswith("-000001")


def test_someone_elses_upload_cannot_be_used(people: People) -> None:
    with pytest.raises(InvalidInput) as raised:
        water_connection(
            people,
            documents={"cnic_copy": upload(people.bilal), "affidavit": upload(people.ayesha)},
        )
    assert raised.value.errors == {
        "documents.cnic_copy": "no such upload, or it expired (uploads last 24 hours)"
    }


def test_uploads_nobody_used_go_with_their_files_a_day_after_they_expire(
    people: People, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Uploads are held for a day (UPLOAD_HOLD); those no submission used are deleted, row
    and file, by the timers a day later. Used ones and ones still held stay."""
    with time_machine.travel(MONDAY_9, tick=False):
        forgotten = [upload(people.ayesha), upload(people.bilal)]
        application = water_connection(people)  # uses two more
    with time_machine.travel(MONDAY_9 + timedelta(hours=30), tick=False):
        held = upload(people.ayesha)
    path = {str(a.uuid): Path(a.file.path) for a in Attachment.objects.all()}
    assert all(file.exists() for file in path.values()) and len(path) == 5

    # Expired at +24 h, refused from then on; still there a day later, less a minute.
    assert run_timers(MONDAY_9 + timedelta(hours=47, minutes=59))["pruned_uploads"] == 0
    assert run_timers(MONDAY_9 + timedelta(hours=48, minutes=1))["pruned_uploads"] == 2

    kept = {str(u) for u in Attachment.objects.values_list("uuid", flat=True)}
    bound = {str(a.uuid) for a in application.attachments.all()}
    assert len(bound) == 2 and kept == bound | {held}
    assert not any(path[key].exists() for key in forgotten)
    assert all(path[key].exists() for key in kept)
    assert prune_unused_uploads(MONDAY_9 + timedelta(hours=48, minutes=1)) == 0

    # A file the storage cannot delete is logged and its row kept, to try again; the other
    # files and rows go.
    with time_machine.travel(MONDAY_9 + timedelta(hours=31), tick=False):
        stuck, other = upload(people.ayesha), upload(people.ayesha)
    path |= {str(a.uuid): Path(a.file.path) for a in Attachment.objects.all()}
    storage = Attachment._meta.get_field("file").storage
    delete = storage.delete

    def failing(name: str) -> None:
        if name.endswith(stuck):
            raise PermissionError(13, "Permission denied", name)
        delete(name)

    monkeypatch.setattr(storage, "delete", failing)
    assert prune_unused_uploads(MONDAY_9 + timedelta(days=4)) == 2  # held, other
    assert {str(u) for u in Attachment.objects.values_list("uuid", flat=True)} == bound | {stuck}
    assert path[stuck].exists() and not path[other].exists() and not path[held].exists()
    assert f"could not delete the expired upload's file private/2026/12/{stuck}" in caplog.text

    # Once the storage deletes it, the next run takes the file and then its row.
    monkeypatch.undo()
    assert prune_unused_uploads(MONDAY_9 + timedelta(days=4)) == 1
    assert not path[stuck].exists()
    assert {str(u) for u in Attachment.objects.values_list("uuid", flat=True)} == bound


def test_the_process_runs_and_each_step_records_its_time(people: People) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        application = water_connection(people)
    with time_machine.travel(MONDAY_9 + timedelta(hours=30), tick=False):  # Tue 15:00
        take_action(application, actor=people.kamran, action="forward")
    application = reread(application)
    with pytest.raises(ActionRefused) as refused:
        take_action(application, actor=people.sana, action="recommend")
    assert (refused.value.code, refused.value.missing) == (
        "documents_missing",
        ("inspection_report",),
    )

    with time_machine.travel(MONDAY_9 + timedelta(days=4), tick=False):  # Fri 09:00, 1d late
        take_action(
            application,
            actor=people.sana,
            action="recommend",
            documents={"inspection_report": upload(people.sana, PNG, "report.png")},
        )

    scrutiny, inspection, approval = Step.objects.filter(application=application)
    assert (scrutiny.working_time, scrutiny.breached) == (timedelta(hours=30), False)
    assert (inspection.state, inspection.working_time, inspection.breached) == (
        "site_inspection",
        timedelta(hours=66),
        False,
    )
    assert (approval.state, approval.owner_role, approval.left_at) == ("approval", "to_infra", None)
    event = application.events.get(action="recommend")
    assert (event.actor, event.actor_role, event.from_state, event.to_state) == (
        people.sana,
        "sub_engineer",
        "site_inspection",
        "approval",
    )
    assert event.data["documents"] == ["inspection_report"]


def test_a_late_step_is_marked_breached_when_it_closes(people: People) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        application = water_connection(people)
    with time_machine.travel(MONDAY_9 + timedelta(days=3), tick=False):  # Thu, due was Wed
        take_action(application, actor=people.kamran, action="forward")
    assert Step.objects.get(application=application, state="scrutiny").breached is True


def test_the_citizens_time_does_not_count_against_the_organization(people: People) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        application = water_connection(people)
        due = reread(application).due_at
        take_action(
            application, actor=people.kamran, action="return", comment="The CNIC copy is blurred."
        )
    application = reread(application)
    assert (application.category, application.paused_at) == ("waiting_citizen", MONDAY_9)

    with time_machine.travel(MONDAY_9 + timedelta(days=2), tick=False):  # Wed 09:00
        event = resubmit(
            application,
            actor=people.ayesha,
            comment="یہ رہی صاف کاپی",
            documents={"cnic_copy": upload(people.ayesha)},
        )

    application = reread(application)
    assert (event.kind, event.text, application.state) == (
        "application.resubmitted",
        "یہ رہی صاف کاپی",
        "scrutiny",
    )
    assert application.paused_at is None
    assert application.due_at == due + timedelta(days=2)  # two working days given back


def test_a_required_comment_is_required(people: People) -> None:
    application = water_connection(people)
    with pytest.raises(ActionRefused) as refused:
        take_action(application, actor=people.kamran, action="reject", comment="  ")
    assert refused.value.code == "comment_required"
    assert reread(application).state == "scrutiny"


def test_only_the_owner_role_or_its_supervisors_may_act(people: People) -> None:
    application = water_connection(people)

    with pytest.raises(ActionRefused) as refused:
        take_action(application, actor=people.sana, action="forward")
    assert refused.value.code == "not_allowed"
    with pytest.raises(NotAllowed):
        take_action(application, actor=people.maryam, action="forward")

    event = take_action(reread(application), actor=people.tariq, action="forward")
    assert (event.actor, event.actor_role) == (people.tariq, "tmo")


def test_two_officials_acting_at_once_one_wins_and_the_other_changes_nothing(
    people: People,
) -> None:
    application = water_connection(people)
    seen_by_kamran, seen_by_tariq = reread(application), reread(application)

    take_action(seen_by_kamran, actor=people.kamran, action="forward")
    with pytest.raises(ApplicationChanged), transaction.atomic():
        take_action(seen_by_tariq, actor=people.tariq, action="reject", comment="Not feasible")

    application = reread(application)
    assert application.state == "site_inspection"
    assert list(application.events.values_list("kind", flat=True)) == [
        "application.submitted",
        "step.action",
    ]


def test_comments_public_and_internal(people: People) -> None:
    application = water_connection(people)

    public = add_comment(application, actor=people.ayesha, text="کب تک ہو جائے گا؟")
    note = add_comment(application, actor=people.kamran, text="Check arrears first.", internal=True)

    assert (public.visibility, public.actor_role, public.text) == (
        "public",
        "citizen",
        "کب تک ہو جائے گا؟",
    )
    assert (note.visibility, note.actor_role) == ("internal", "clerk")
    with pytest.raises(NotAllowed):
        add_comment(application, actor=people.ayesha, text="secret", internal=True)
    with pytest.raises(NotAllowed):
        add_comment(application, actor=people.maryam, text="Looks slow.")
    with pytest.raises(InvalidInput) as raised:
        add_comment(application, actor=people.ayesha, text="x" * 20_000)
    assert raised.value.errors == {"text": "at most 5000 characters (this has 20000)"}


def test_supervisors_assign_a_step_to_an_official_of_its_role(people: People) -> None:
    application = water_connection(people)

    with pytest.raises(NotAllowed):
        assign(application, actor=people.kamran, assignee=people.kamran)
    with pytest.raises(InvalidInput):
        assign(application, actor=people.tariq, assignee=people.zeb)
    event = assign(application, actor=people.tariq, assignee=people.kamran)

    assert (event.kind, event.visibility, event.actor_role) == ("step.assigned", "internal", "tmo")
    assert reread(application).current_step.assignee == people.kamran  # type: ignore[union-attr]


def test_the_work_queue_shows_what_waits_on_my_role_in_my_area(people: People) -> None:
    application = water_connection(people)

    assert [s.application for s in work_queue(people.kamran)] == [application]
    assert list(work_queue(people.faisal)) == []  # posted to another council
    assert list(work_queue(people.zeb)) == []  # another organization
    assert list(work_queue(people.sana)) == []  # not her step yet
    take_action(application, actor=people.kamran, action="forward")
    assert [s.application for s in work_queue(people.sana)] == [application]


def test_the_applicant_may_withdraw_before_a_decision(people: People) -> None:
    application = water_connection(people)

    with pytest.raises(NotAllowed):
        withdraw(application, actor=people.bilal)
    event = withdraw(application, actor=people.ayesha, reason="Connected privately")

    application = reread(application)
    assert (application.state, application.category, application.outcome) == (
        "withdrawn",
        "closed_withdrawn",
        "withdrawn",
    )
    assert application.closed_at == event.created_at
    with pytest.raises(ActionRefused):
        withdraw(application, actor=people.ayesha)


def test_the_system_takes_the_timeout_action(people: People) -> None:
    application = water_connection(people)
    take_action(application, actor=people.kamran, action="return", comment="Need a clear copy")

    event = take_action(reread(application), actor=None, action="lapse")

    application = reread(application)
    assert (event.actor, event.actor_role) == (None, "system")
    assert (application.category, application.outcome) == ("closed_withdrawn", "withdrawn")


def test_the_fee_step_carries_a_challan(people: People) -> None:
    application = water_connection(people)
    take_action(application, actor=people.kamran, action="forward")
    take_action(
        reread(application),
        actor=people.sana,
        action="recommend",
        documents={"inspection_report": upload(people.sana)},
    )

    event = take_action(reread(application), actor=people.imran, action="approve")

    assert event.data["challan"] == {
        "amount": "1000.00",
        "currency": "PKR",
        "reference": f"{application.tracking_no}-4",
    }
    assert reread(application).category == "waiting_citizen"
    assert Event.objects.filter(application=application).count() == 4


def test_only_those_who_act_on_a_step_supply_its_required_documents(people: People) -> None:
    from ocsc.cases.actions import attach_documents

    application = water_connection(people)
    take_action(application, actor=people.kamran, action="forward")
    application = reread(application)

    with pytest.raises(InvalidInput) as raised:
        attach_documents(
            application, actor=people.ayesha, documents={"inspection_report": upload(people.ayesha)}
        )
    assert list(raised.value.errors) == ["documents.inspection_report"]
    with pytest.raises(ActionRefused):
        take_action(application, actor=people.sana, action="recommend")
    # The applicant may still add a document of the kind asked for at submission.
    attach_documents(
        application, actor=people.ayesha, documents={"cnic_copy": upload(people.ayesha)}
    )
    attach_documents(
        application, actor=people.sana, documents={"inspection_report": upload(people.sana)}
    )
    take_action(reread(application), actor=people.sana, action="recommend")
