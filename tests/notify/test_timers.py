"""The timers on a moving clock: reminders, escalation once per level, citizens' steps timing
out, the heads' digest, and the sweeps that lose nothing."""

from datetime import datetime, timedelta
from importlib import import_module

import pytest
import time_machine
from pytest_django.fixtures import Settings

from ocsc.cases import actions as cases_actions
from ocsc.cases.actions import take_action
from ocsc.cases.models import Application, Event, Step
from ocsc.catalog.actions import publish_process
from ocsc.catalog.models import Role, Service
from ocsc.catalog.views import spec_yaml
from ocsc.notify import timers
from ocsc.notify.models import DeliveryAttempt, Notification
from ocsc.notify.timers import run_timers
from tests.notify.conftest import PKT, Run, told
from tests.notify.gateways import FlakyGateway
from tests.personas import People, water_connection

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=PKT)


def reread(application: Application) -> Application:
    return Application.objects.select_related(
        "current_step", "organization", "service", "jurisdiction", "process"
    ).get(pk=application.pk)


def timers_at(moment: datetime, committed: Run, clock: time_machine.Traveller) -> dict[str, int]:
    clock.move_to(moment)
    result: dict[str, int] = committed(run_timers)
    return result


@pytest.fixture
def at_site_inspection(people: People, committed: Run, clock: time_machine.Traveller) -> Step:
    """Mon 7 Dec 09:00: submitted and forwarded at once; the sub-engineer's site inspection
    (3 working days) falls due Thu 10 Dec 09:00."""
    application = committed(water_connection, people)
    committed(take_action, reread(application), actor=people.kamran, action="forward")
    Notification.objects.all().delete()
    step = Step.objects.get(application=application, state="site_inspection")
    assert step.due_at == at(10)
    return step


def escalations() -> list[tuple[int, str]]:
    return [
        (e.data["level"], e.data["to_role"])
        for e in Event.objects.filter(kind="step.escalated").order_by("pk")
    ]


def test_a_late_step_escalates_once_per_level_up_to_the_head(
    at_site_inspection: Step, committed: Run, clock: time_machine.Traveller
) -> None:
    timers_at(at(10, 8, 59), committed, clock)
    assert escalations() == []

    timers_at(at(10), committed, clock)  # due: to the sub-engineer's supervisor
    at_site_inspection.refresh_from_db()
    assert at_site_inspection.escalate_at == at(15)  # the next level's time
    timers_at(at(10), committed, clock)  # the timer runs again: nothing more
    timers_at(at(14, 17), committed, clock)
    assert escalations() == [(1, "to_infra")]
    assert told(reason="escalated") == {
        ("Imran", "in_app", "escalated"),
        ("Imran", "sms", "escalated"),
    }
    sms = Notification.objects.get(reason="escalated", channel="sms")
    assert sms.body == (
        "MDN-26-000001: Site inspection (Sub-Engineer) is late since 10-12-2026. "
        "Escalated to you, level 1."
    )

    timers_at(at(15), committed, clock)  # one more step timeline (3 working days): the head
    timers_at(at(15), committed, clock)
    timers_at(at(31), committed, clock)  # nobody above the head
    assert escalations() == [(1, "to_infra"), (2, "tmo")]
    assert told(reason="escalated") >= {("Tariq", "sms", "escalated")}
    at_site_inspection.refresh_from_db()
    assert at_site_inspection.escalation_level == 2
    assert at_site_inspection.escalate_at is None  # the head: nobody left to tell
    escalated = Event.objects.filter(kind="step.escalated")
    assert {(e.visibility, e.actor_id, e.actor_role) for e in escalated} == {
        ("internal", None, "system")
    }
    assert not Notification.objects.filter(recipient__name="Ayesha Khan").exists()


def test_a_worker_back_after_days_climbs_every_level_passed_in_order(
    at_site_inspection: Step, committed: Run, clock: time_machine.Traveller
) -> None:
    timers_at(at(16), committed, clock)

    assert escalations() == [(1, "to_infra"), (2, "tmo")]


def test_a_step_due_to_escalate_does_not_wait_behind_steps_that_are_not(
    at_site_inspection: Step,
    people: People,
    committed: Run,
    clock: time_machine.Traveller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The timers take a batch of steps at a time: those whose next level is due, soonest
    first. Taken by due time, the late steps already escalated and waiting for their next
    level came first, and with more of them than a batch, the others never escalated."""
    clock.move_to(at(8))
    later = committed(water_connection, people)
    committed(take_action, reread(later), actor=people.kamran, action="forward")
    second = Step.objects.get(application=later, state="site_inspection")
    assert second.due_at == at(11)
    monkeypatch.setattr(timers, "BATCH", 1)

    timers_at(at(11, 10), committed, clock)  # the first step falls due first: level 1
    timers_at(at(11, 10), committed, clock)  # its level 2 is not due: the second step's turn
    timers_at(at(11, 10), committed, clock)
    reached = Event.objects.filter(kind="step.escalated").values_list("step_id", "data__level")
    assert sorted(reached) == [(at_site_inspection.pk, 1), (second.pk, 1)]


def test_a_change_to_the_role_chart_gives_steps_at_the_top_a_level_to_reach(
    at_site_inspection: Step, committed: Run, clock: time_machine.Traveller
) -> None:
    """Once at the head, a step is not read again; if the chart changes (the catalog, the
    admin), the timers look at it again."""
    timers_at(at(15), committed, clock)
    at_site_inspection.refresh_from_db()
    assert (at_site_inspection.escalation_level, at_site_inspection.escalate_at) == (2, None)
    head = Role.objects.get(kind=at_site_inspection.organization.kind, code="tmo")
    head.save(update_fields=["name"])  # not its place in the chart
    assert Step.objects.get(pk=at_site_inspection.pk).escalate_at is None
    head.save(update_fields=["reports_to"])
    assert Step.objects.get(pk=at_site_inspection.pk).escalate_at == at(10)
    timers_at(at(15), committed, clock)  # nobody above the head yet: left be again
    assert Step.objects.get(pk=at_site_inspection.pk).escalate_at is None
    assert escalations() == [(1, "to_infra"), (2, "tmo")]


def test_migration_arms_the_open_steps_that_can_still_escalate(
    at_site_inspection: Step, people: People, committed: Run
) -> None:
    """Steps opened before `escalate_at` existed: an official's open step below the head
    escalates from its due time; a step at the top of its chain, a closed one, or a
    citizen's does not."""
    from django.apps import apps

    arm = import_module("ocsc.cases.migrations.0006_step_escalate_at").arm_open_steps
    at_the_top = committed(water_connection, people).current_step
    assert at_the_top is not None
    Step.objects.filter(pk=at_the_top.pk).update(escalation_level=2, due_at=at(10))
    Step.objects.update(escalate_at=None)

    arm(apps, None)
    armed = dict(Step.objects.filter(escalate_at__isnull=False).values_list("pk", "escalate_at"))
    assert armed == {at_site_inspection.pk: at(10)}


def test_officials_are_reminded_once_before_a_step_falls_due(
    at_site_inspection: Step, committed: Run, clock: time_machine.Traveller
) -> None:
    timers_at(at(9, 8, 59), committed, clock)  # more than a day before: not yet
    assert told() == set()

    timers_at(at(9, 10), committed, clock)
    timers_at(at(9, 11), committed, clock)

    assert told() == {("Sana", "in_app", "reminder")}
    assert Notification.objects.get().body == (
        "MDN-26-000001: reminder, Site inspection falls due 10-12-2026."
    )


def test_a_step_opened_inside_the_reminder_window_is_not_reminded(
    people: People, committed: Run, clock: time_machine.Traveller, settings: Settings
) -> None:
    settings.NOTIFY_REMINDER_LEAD_HOURS = 72  # longer than the clerk's 2 days
    committed(water_connection, people)
    Notification.objects.all().delete()

    timers_at(at(8), committed, clock)

    assert told() == set()


@pytest.fixture
def returned(people: People, committed: Run, clock: time_machine.Traveller) -> Application:
    """Mon 7 Dec 09:00: returned for correction; the citizen has 10 working days, until
    Mon 21 Dec 09:00, before the application lapses."""
    application = committed(water_connection, people)
    committed(
        take_action, reread(application), actor=people.kamran, action="return", comment="Sign it."
    )
    Notification.objects.all().delete()
    assert reread(application).current_step.due_at == at(21)  # type: ignore[union-attr]
    return application


def test_a_citizen_step_times_out_after_a_reminder_and_the_application_lapses(
    returned: Application, committed: Run, clock: time_machine.Traveller
) -> None:
    timers_at(at(18, 8), committed, clock)  # more than 72 hours before
    assert told() == set()

    timers_at(at(18, 10), committed, clock)
    timers_at(at(18, 11), committed, clock)
    assert told() == {
        ("Ayesha", "in_app", "timeout_reminder"),
        ("Ayesha", "sms", "timeout_reminder"),
    }
    assert Notification.objects.get(channel="sms").body == (
        "MDN-26-000001: 21-12-2026 تک جواب دیں، ورنہ درخواست بند ہوگی"
    )

    timers_at(at(21, 8, 59), committed, clock)
    assert reread(returned).state == "correction"
    timers_at(at(21), committed, clock)
    timers_at(at(21), committed, clock)

    application = reread(returned)
    assert (application.state, application.category, application.outcome) == (
        "lapsed",
        "closed_withdrawn",
        "withdrawn",
    )
    assert application.closed_at == at(21)
    lapse = Event.objects.filter(application=application).order_by("-pk").first()
    assert lapse is not None
    assert (lapse.kind, lapse.action, lapse.actor, lapse.actor_role) == (
        "step.action",
        "lapse",
        None,
        "system",
    )
    assert (lapse.from_state, lapse.to_state, lapse.visibility) == (
        "correction",
        "lapsed",
        "public",
    )
    assert Event.objects.filter(application=application, action="lapse").count() == 1
    assert told(reason="closed") == {("Ayesha", "in_app", "closed"), ("Ayesha", "sms", "closed")}
    correction = Step.objects.get(application=application, state="correction")
    assert correction.left_at == at(21)


def test_a_citizen_step_with_a_timeout_does_not_wait_behind_steps_without_one(
    people: People,
    returned: Application,
    committed: Run,
    clock: time_machine.Traveller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The timers take a batch of citizens' steps at a time. Taken by due time, a late
    citizen's step with no timeout came first in every batch and stayed: with more of them
    than a batch, no step timed out. Only steps with a timeout are taken now, and a step whose
    timeout cannot be taken is not taken again."""
    clock.move_to(at(8))
    waiting = committed(water_connection, people).current_step
    assert waiting is not None  # a citizen's step with a timeline and no timeout, long late:
    Step.objects.filter(pk=waiting.pk).update(owner_role="citizen", due_at=at(1))
    returned_step = reread(returned).current_step
    assert returned_step is not None and returned_step.times_out_at == at(21)
    monkeypatch.setattr(timers, "BATCH", 1)

    timers_at(at(21), committed, clock)
    assert reread(returned).state == "lapsed"
    assert Step.objects.get(pk=waiting.pk).left_at is None

    refused = reread(committed(water_connection, people))
    committed(take_action, refused, actor=people.kamran, action="return", comment="Sign it.")
    step = reread(refused).current_step
    assert step is not None
    Step.objects.filter(pk=step.pk).update(times_out_at=at(21), due_at=at(22))  # not yet due
    timers_at(at(21, 10), committed, clock)
    assert Step.objects.get(pk=step.pk).times_out_at is None  # tried once, then left alone
    assert reread(refused).state == "correction"


def test_an_officials_step_with_a_timeout_takes_it_when_due_and_does_not_escalate(
    people: People, committed: Run, clock: time_machine.Traveller
) -> None:
    """A process may let the system move an official's step on when its timeline runs out
    (here: scrutiny not done in 2 working days goes to the site inspection)."""
    service = Service.objects.get(organization__code="tma-mardan", code="water-connection")
    assert service.current_process is not None
    spec = service.current_process.spec
    spec["steps"]["scrutiny"]["timeout"] = {"action": "pass_on"}
    spec["steps"]["scrutiny"]["actions"]["pass_on"] = {"to": "site_inspection", "by": "system"}
    committed(publish_process, service, actor=people.tariq, text=spec_yaml(spec))
    clock.move_to(at(7))
    application = committed(water_connection, people)
    scrutiny = reread(application).current_step
    assert scrutiny is not None and scrutiny.state == "scrutiny"
    assert (scrutiny.times_out_at, scrutiny.escalate_at) == (at(9), None)

    timers_at(at(9, 8, 59), committed, clock)
    assert reread(application).state == "scrutiny"
    timers_at(at(9), committed, clock)
    assert reread(application).state == "site_inspection"
    moved = Event.objects.filter(application=application, action="pass_on").get()
    assert (moved.actor, moved.actor_role) == (None, "system")
    assert escalations() == []
    assert told(reason="timeout_reminder") == set()  # citizens are reminded of theirs only


def test_migration_arms_the_steps_that_time_out(
    returned: Application, people: People, committed: Run
) -> None:
    arm = import_module("ocsc.cases.migrations.0007_step_times_out_at").arm_open_steps
    from django.apps import apps

    at_scrutiny = committed(water_connection, people).current_step
    assert at_scrutiny is not None
    Step.objects.update(times_out_at=None)

    arm(apps, None)
    armed = dict(Step.objects.filter(times_out_at__isnull=False).values_list("pk", "times_out_at"))
    correction = reread(returned).current_step
    assert correction is not None and armed == {correction.pk: at(21)}


def test_a_correction_in_time_stops_the_timeout(
    people: People, returned: Application, committed: Run, clock: time_machine.Traveller
) -> None:
    clock.move_to(at(18))
    committed(cases_actions.resubmit, reread(returned), actor=people.ayesha, comment="Signed.")

    timers_at(at(22), committed, clock)

    assert reread(returned).state == "scrutiny"
    assert not Event.objects.filter(action="lapse").exists()


def test_the_head_gets_one_digest_a_day_of_overdue_work(
    at_site_inspection: Step, committed: Run, clock: time_machine.Traveller
) -> None:
    timers_at(at(10, 7), committed, clock)  # late, but before the digest hour (8)
    assert told(reason="digest") == set()

    timers_at(at(10, 10), committed, clock)
    timers_at(at(10, 15), committed, clock)
    assert told(reason="digest") == {("Tariq", "in_app", "digest")}
    digest = Notification.objects.get(reason="digest")
    assert (digest.title, digest.body) == (
        "Overdue work: 1",
        "TMA Mardan: 1 steps are overdue. Longest late: MDN-26-000001",
    )

    timers_at(at(11, 10), committed, clock)
    assert Notification.objects.filter(reason="digest").count() == 2  # the next day's


def test_an_event_whose_dispatch_was_lost_is_swept_up(
    people: People,
    committed: Run,
    clock: time_machine.Traveller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cases_actions, "announce_on_commit", lambda event_id: None)  # died
    committed(water_connection, people)
    assert told() == set()

    timers_at(at(7, 9, 0) + timedelta(seconds=5), committed, clock)
    assert told() == set()  # the reaction may still be on its way

    timers_at(at(7, 9, 0) + timedelta(seconds=11), committed, clock)
    assert told() == {
        ("Ayesha", "in_app", "submitted"),
        ("Ayesha", "sms", "submitted"),
        ("Kamran", "in_app", "work"),
    }
    assert Notification.objects.get(channel="sms").status == "sent"
    assert Event.objects.get().dispatched_at is not None


def test_failed_sends_back_off_exponentially_then_give_up_and_can_be_retried(
    people: People, committed: Run, clock: time_machine.Traveller, settings: Settings
) -> None:
    from ocsc.notify.actions import retry_notifications

    settings.SMS_GATEWAY = "tests.notify.gateways.FlakyGateway"
    settings.NOTIFY_LOST_AFTER_SECONDS = 0  # tasks run at once here: the sweep is the retry
    FlakyGateway.down, FlakyGateway.sent = True, []
    committed(water_connection, people)
    sms = Notification.objects.get(channel="sms")
    while sms.status == "queued":
        timers_at(sms.next_attempt_at, committed, clock)
        sms.refresh_from_db()

    assert (sms.status, sms.attempts) == ("failed", 6)
    starts = [a.started_at for a in DeliveryAttempt.objects.filter(notification=sms)]
    gaps = [
        (later - earlier).total_seconds()
        for earlier, later in zip(starts, starts[1:], strict=False)
    ]
    assert gaps == [60, 120, 240, 480, 960]
    attempts = DeliveryAttempt.objects.filter(notification=sms)
    assert [(a.number, a.ok, a.error) for a in attempts] == [
        (n, False, "the aggregator is down") for n in range(1, 7)
    ]
    assert FlakyGateway.sent == []

    FlakyGateway.down = False
    committed(retry_notifications, [sms.pk])
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.reference) == ("sent", 1, "flaky: ok-1")
    assert FlakyGateway.sent == [("+923001111111", sms.body, str(sms.uuid))]
    committed(retry_notifications, [sms.pk])  # sent: never sent again
    timers_at(at(7, 12), committed, clock)
    assert len(FlakyGateway.sent) == 1


def test_a_sender_that_died_mid_attempt_is_taken_back_after_its_lease_and_sent_once(
    people: People,
    committed: Run,
    clock: time_machine.Traveller,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ocsc.notify import channels

    def die(notification: Notification) -> str:
        raise SystemExit("the worker was stopped")  # not an error: the process ends

    settings.SMS_GATEWAY = "tests.notify.gateways.FlakyGateway"
    FlakyGateway.down, FlakyGateway.sent = False, []
    with monkeypatch.context() as patch:
        patch.setattr(channels, "send", die)
        committed(water_connection, people)
    sms = Notification.objects.get(channel="sms")
    assert (sms.status, sms.attempts) == ("sending", 1)

    timers_at(at(7, 9, 1), committed, clock)  # within the lease: perhaps still sending
    assert FlakyGateway.sent == []
    timers_at(at(7, 9, 3), committed, clock)
    timers_at(at(7, 9, 5), committed, clock)

    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == ("sent", 2)
    assert FlakyGateway.sent == [("+923001111111", sms.body, str(sms.uuid))]
    attempts = [(a.number, a.ok, a.error[:8]) for a in sms.delivery_attempts.all()]
    assert attempts == [(1, False, "in doubt"), (2, True, "")]


def test_the_timer_command_runs_every_timer_once_and_says_what_it_did(
    people: People,
    committed: Run,
    clock: time_machine.Traveller,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from django.core.management import call_command

    monkeypatch.setattr(cases_actions, "announce_on_commit", lambda event_id: None)
    committed(water_connection, people)
    clock.shift(timedelta(minutes=1))

    committed(call_command, "run_timers", "--once")
    committed(call_command, "run_timers", "--once", verbosity=2)

    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if line.startswith("timers:")] == [
        "timers: dispatched 1",
        "timers: nothing to do",
    ]
    assert "[SMS to +923001111111] آپ کی درخواست موصول ہو گئی ہے۔ ٹریکنگ نمبر: MDN-26-000001" in out


def test_the_rows_of_tasks_finished_long_ago_are_pruned(settings: Settings) -> None:
    """The queue table keeps finished tasks for TASK_RESULTS_KEEP_DAYS, and waiting ones
    whatever their age."""
    from django_tasks_db.models import DBTaskResult

    from ocsc.notify.timers import prune_task_results

    settings.TASK_RESULTS_KEEP_DAYS = 7
    now = at(20)

    def task(status: str, finished: datetime | None) -> DBTaskResult:
        row: DBTaskResult = DBTaskResult.objects.create(
            args_kwargs={"args": [1], "kwargs": {}},
            task_path="ocsc.notify.tasks.dispatch",
            queue_name="default",
            backend_name="default",
            status=status,
            finished_at=finished,
        )
        return row

    old_done = task("SUCCESSFUL", now - timedelta(days=8))
    old_failed = task("FAILED", now - timedelta(days=7, minutes=1))
    recent = task("SUCCESSFUL", now - timedelta(days=6))
    waiting = task("READY", None)
    DBTaskResult.objects.filter(pk=waiting.pk).update(enqueued_at=now - timedelta(days=30))

    assert prune_task_results(now) == 2
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not DBTaskResult.objects.filter(pk__in=[old_done.pk, old_failed.pk]).exists()
    assert prune_task_results(now) == 0


def test_events_that_keep_failing_do_not_hold_back_those_behind_them(
    people: People,
    committed: Run,
    clock: time_machine.Traveller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A whole batch of Events whose dispatch fails (a broken template, say) is tried again
    at every sweep; the sweep goes on past them to the Events behind, which are told."""
    from ocsc.notify import actions as notify_actions

    monkeypatch.setattr(cases_actions, "announce_on_commit", lambda event_id: None)  # died
    monkeypatch.setattr(timers, "BATCH", 2)
    applications = [committed(water_connection, people) for _ in range(5)]
    events = [Event.objects.get(application=a).pk for a in applications]
    poisoned = set(events[:4])  # two whole batches at the head of the line
    dispatch = notify_actions.dispatch_event
    tried: list[int] = []

    def failing(event_id: int, **kwargs: object) -> int:
        tried.append(event_id)
        if event_id in poisoned:
            raise RuntimeError("a broken template")
        return dispatch(event_id)

    monkeypatch.setattr(notify_actions, "dispatch_event", failing)

    timers_at(at(7, 9, 0) + timedelta(seconds=11), committed, clock)

    assert tried == events  # each once, in the order they were written
    undispatched = set(
        Event.objects.filter(dispatched_at__isnull=True).values_list("pk", flat=True)
    )
    assert undispatched == poisoned
    assert told() == {
        ("Ayesha", "in_app", "submitted"),
        ("Ayesha", "sms", "submitted"),
        ("Kamran", "in_app", "work"),
    }  # the last application's, behind the failing ones
    assert Notification.objects.get(channel="sms").application_id == applications[-1].pk

    poisoned.clear()  # mended: the next sweeps tell the rest, a batch each
    timers_at(at(7, 9, 1), committed, clock)
    assert Event.objects.filter(dispatched_at__isnull=True).count() == 2
    timers_at(at(7, 9, 2), committed, clock)
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
    assert Notification.objects.filter(reason="submitted", channel="sms").count() == 5
