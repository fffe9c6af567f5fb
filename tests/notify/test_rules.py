"""Who is told what, by which channel and in which language, for each kind of Event
(ocsc/notify/rules.py), through the real actions and their commits."""

import pytest
import time_machine
from django.core import mail

from ocsc.cases.actions import (
    add_comment,
    assign,
    attach_documents,
    resubmit,
    take_action,
    withdraw,
)
from ocsc.cases.models import Application, Event
from ocsc.notify.actions import set_channels
from ocsc.notify.models import Notification
from tests.notify.conftest import Run, told
from tests.personas import People, upload, water_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def reread(application: Application) -> Application:
    return Application.objects.select_related(
        "current_step", "organization", "service", "jurisdiction", "process"
    ).get(pk=application.pk)


def test_a_submission_gives_the_applicant_a_receipt_by_sms_and_the_clerks_new_work(
    people: People, committed: Run
) -> None:
    application = committed(water_connection, people)

    assert told() == {
        ("Ayesha", "in_app", "submitted"),
        ("Ayesha", "sms", "submitted"),  # the receipt is on by SMS by default
        ("Kamran", "in_app", "work"),  # the clerk of the whole TMA; Faisal's area is another
    }
    sms = Notification.objects.get(channel="sms")
    assert sms.address == "+923001111111"
    assert sms.body == "آپ کی درخواست موصول ہو گئی ہے۔ ٹریکنگ نمبر: MDN-26-000001"  # Urdu
    assert (sms.status, sms.attempts, sms.reference) == ("sent", 1, "console")
    work = Notification.objects.get(recipient=people.kamran)
    assert work.title == "New work: MDN-26-000001"  # Kamran reads English
    assert work.body == (
        "MDN-26-000001: new work for you: Scrutiny (New water supply connection). Due 09-12-2026."
    )
    assert work.link == "https://ocsc.example.org/applications/MDN-26-000001/"
    assert (work.status, work.step_id) == ("sent", application.current_step_id)
    event = Event.objects.get()
    assert event.dispatched_at is not None


def test_work_moving_between_officials_tells_the_next_role_and_the_applicant_in_app(
    people: People, committed: Run
) -> None:
    application = committed(water_connection, people)
    Notification.objects.all().delete()

    forwarded = committed(take_action, reread(application), actor=people.kamran, action="forward")

    assert told() == {
        ("Ayesha", "in_app", "progress"),  # progress: in-app only, until she asks for more
        ("Sana", "in_app", "work"),  # the sub-engineer: the next step's owner role
    }
    progress = Notification.objects.get(recipient=people.ayesha)
    assert progress.body == "MDN-26-000001: آپ کی درخواست اب اس مرحلے پر ہے: Site inspection"
    assert (progress.event_id, progress.key) == (forwarded.pk, f"event:{forwarded.pk}")


def test_a_return_for_correction_reaches_the_applicant_by_sms_with_the_reason(
    people: People, committed: Run
) -> None:
    application = committed(water_connection, people)
    Notification.objects.all().delete()

    committed(
        take_action,
        reread(application),
        actor=people.kamran,
        action="return",
        comment="The CNIC copy is unreadable.",
    )

    assert told() == {("Ayesha", "in_app", "needs_you"), ("Ayesha", "sms", "needs_you")}
    assert Notification.objects.get(channel="sms").body == (
        "MDN-26-000001: درخواست آپ کی منتظر ہے (Correction)۔ The CNIC copy is unreadable."
    )

    Notification.objects.all().delete()
    committed(resubmit, reread(application), actor=people.ayesha, comment="A clear copy.")

    assert told() == {("Kamran", "in_app", "work")}  # nothing to Ayesha of her own act


def test_the_fee_and_the_decision_go_by_sms_and_each_step_to_its_officials(
    people: People, committed: Run
) -> None:
    application = committed(water_connection, people)
    committed(take_action, reread(application), actor=people.kamran, action="forward")
    report = {"inspection_report": upload(people.sana)}
    committed(
        take_action, reread(application), actor=people.sana, action="recommend", documents=report
    )
    assert told(reason="work") >= {("Imran", "in_app", "work")}
    Notification.objects.all().delete()

    committed(take_action, reread(application), actor=people.imran, action="approve")
    assert told() == {("Ayesha", "in_app", "fee_due"), ("Ayesha", "sms", "fee_due")}
    assert Notification.objects.get(channel="sms").body == (
        "MDN-26-000001: فیس PKR 1,000 ادا کریں، چالان MDN-26-000001-4"
    )

    Notification.objects.all().delete()
    committed(take_action, reread(application), actor=people.ayesha, action="pay")
    assert told() == {("Nadia", "in_app", "work")}
    committed(take_action, reread(application), actor=people.nadia, action="confirm")
    committed(take_action, reread(application), actor=people.sana, action="complete")
    assert told(reason="completed") == {
        ("Ayesha", "in_app", "completed"),
        ("Ayesha", "sms", "completed"),
    }
    assert Notification.objects.get(channel="sms", reason="completed").body == (
        "MDN-26-000001: آپ کی درخواست مکمل ہو گئی: Connected۔"
    )


def test_a_rejection_gives_the_reason(people: People, committed: Run) -> None:
    application = committed(water_connection, people)
    people.ayesha.language = "en"
    people.ayesha.save(update_fields=["language"])
    Notification.objects.all().delete()

    committed(
        take_action,
        reread(application),
        actor=people.kamran,
        action="reject",
        comment="The plot is outside the water scheme.",
    )

    assert Notification.objects.get(channel="sms").body == (
        "MDN-26-000001: your application was rejected. Reason: The plot is outside the water "
        "scheme."
    )


def test_comments_reach_the_other_side_and_internal_notes_no_citizen(
    people: People, committed: Run
) -> None:
    application = committed(water_connection, people)
    Notification.objects.all().delete()

    committed(
        add_comment,
        reread(application),
        actor=people.kamran,
        text="Check the meter.",
        internal=True,
    )
    assert told() == set()  # internal: never the applicant, by any channel

    committed(add_comment, reread(application), actor=people.kamran, text="Please wait a day.")
    assert told() == {("Ayesha", "in_app", "comment")}
    assert Notification.objects.get().body == (
        "MDN-26-000001: ڈیلنگ اسسٹنٹ کا پیغام: Please wait a day."
    )

    Notification.objects.all().delete()
    committed(add_comment, reread(application), actor=people.ayesha, text="Thank you.")
    assert told() == {("Kamran", "in_app", "citizen_comment")}

    Notification.objects.all().delete()
    committed(
        attach_documents,
        reread(application),
        actor=people.ayesha,
        documents={"cnic_copy": upload(people.ayesha)},
    )
    assert told() == {("Kamran", "in_app", "citizen_documents")}


def test_an_assignment_tells_the_assignee_only(people: People, committed: Run) -> None:
    application = committed(water_connection, people)
    Notification.objects.all().delete()

    committed(assign, reread(application), actor=people.tariq, assignee=people.kamran)

    assert told() == {("Kamran", "in_app", "assigned")}
    assert Notification.objects.get().body == (
        "MDN-26-000001: Scrutiny has been assigned to you. Due 09-12-2026."
    )


def test_an_assigned_step_s_documents_reach_its_assignee_not_the_whole_role(
    people: People, committed: Run
) -> None:
    application = committed(water_connection, people)
    people.faisal.postings.update(jurisdiction=None)  # now a clerk for the whole TMA too
    committed(assign, reread(application), actor=people.tariq, assignee=people.faisal)
    Notification.objects.all().delete()

    committed(add_comment, reread(application), actor=people.ayesha, text="Any news?")

    assert told() == {("Faisal", "in_app", "citizen_comment")}


def test_channels_follow_each_person_s_choice_and_e_mail_goes_in_their_language(
    people: People, committed: Run
) -> None:
    people.ayesha.email = "ayesha@example.org"
    people.ayesha.save(update_fields=["email"])
    set_channels(people.ayesha, {"receipt": [], "decision": ["email"], "progress": ["sms"]})
    people.kamran.email = "kamran@example.org"
    people.kamran.save(update_fields=["email"])  # officials get new work by e-mail by default

    application = committed(water_connection, people)
    assert told() == {
        ("Ayesha", "in_app", "submitted"),  # the receipt by SMS turned off: in-app only
        ("Kamran", "in_app", "work"),
        ("Kamran", "email", "work"),
    }
    [work] = mail.outbox
    assert (work.to, work.subject) == (["kamran@example.org"], "New work: MDN-26-000001")
    assert work.body.startswith("Kamran Ali,\n\nMDN-26-000001: new work for you: Scrutiny")
    assert "Open it: https://ocsc.example.org/applications/MDN-26-000001/" in work.body

    committed(
        take_action, reread(application), actor=people.kamran, action="return", comment="Sign it."
    )
    assert told(reason="needs_you") == {
        ("Ayesha", "in_app", "needs_you"),
        ("Ayesha", "email", "needs_you"),
    }
    letter = mail.outbox[1]
    assert (letter.to, letter.subject) == (["ayesha@example.org"], "درخواست آپ کی منتظر ہے")
    assert letter.body.startswith("محترم Ayesha Khan،\n\nMDN-26-000001: درخواست آپ کی منتظر ہے")
    assert "تفصیل دیکھیں: https://ocsc.example.org/applications/MDN-26-000001/" in letter.body


def test_pashto_speakers_read_pashto(people: People, committed: Run) -> None:
    people.ayesha.language = "ps"
    people.ayesha.save(update_fields=["language"])

    committed(water_connection, people)

    assert Notification.objects.get(channel="sms").body == (
        "ستاسو غوښتنلیک ترلاسه شو. د تعقیب شمېره: MDN-26-000001"
    )


def test_an_event_is_dispatched_once_however_often_it_is_announced(
    people: People, committed: Run
) -> None:
    from ocsc.cases.signals import announce
    from ocsc.notify.actions import dispatch_event

    committed(water_connection, people)
    event = Event.objects.get()
    made = Notification.objects.count()

    announce(event.pk)
    assert dispatch_event(event.pk) == 0
    with time_machine.travel("2026-12-07 10:00 +05:00", tick=False):
        Event.objects.filter(pk=event.pk).update(dispatched_at=None)  # as if never dispatched
        assert dispatch_event(event.pk) == 0  # the notifications exist: none made twice

    assert Notification.objects.count() == made


def test_an_official_s_document_reaches_the_applicant_and_her_withdrawal_nobody(
    people: People, committed: Run
) -> None:
    application = committed(water_connection, people)
    committed(take_action, reread(application), actor=people.kamran, action="forward")
    Notification.objects.all().delete()

    committed(
        attach_documents,
        reread(application),
        actor=people.sana,
        documents={"inspection_report": upload(people.sana)},
    )
    assert told() == {("Ayesha", "in_app", "documents")}
    assert Notification.objects.get().body == (
        "MDN-26-000001: سب انجینئر نے آپ کی درخواست میں دستاویز شامل کی۔"
    )

    Notification.objects.all().delete()
    committed(withdraw, reread(application), actor=people.ayesha, reason="Not needed any more.")
    assert told() == set()
    assert Event.objects.filter(kind="application.withdrawn").get().dispatched_at is not None
