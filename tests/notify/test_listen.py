"""The Events' dispatch on PostgreSQL by NOTIFY (ocsc/notify/listen.py): an action queues no
task for it; the one worker that holds the lock hears of the Events and dispatches them; a
worker that comes to lead dispatches what nobody heard; more than one worker clears at once
goes to the queue for the others."""

import time

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings

from ocsc.cases.models import Application, Event
from ocsc.notify import listen
from ocsc.notify.listen import DispatchListener
from ocsc.notify.models import Notification
from ocsc.taskqueue import Worker
from tests.notify.conftest import told
from tests.personas import People, water_connection

pytestmark = pytest.mark.django_db(transaction=True)
DATABASE_TASKS = {"default": {"BACKEND": "ocsc.taskqueue.DatabaseBackend", "QUEUES": ["default"]}}
DISPATCH = "ocsc.notify.tasks.dispatch"


@pytest.fixture
def queue(settings: Settings) -> None:
    settings.TASKS = DATABASE_TASKS  # as in production: the worker's queue in the database


@pytest.fixture
def retry_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listen, "LEAD_RETRY_SECONDS", 0.0)


def until_leading(worker: DispatchListener, seconds: float = 10.0) -> int:
    """`worker.work()` until it leads; what it dispatched. The server lets a closed session's
    advisory lock go when it has noticed the close, a moment after the client's: on a busy
    machine the first try may still find it held."""
    deadline = time.monotonic() + seconds
    done = worker.work()
    while not worker.leading and time.monotonic() < deadline:
        time.sleep(0.05)
        done += worker.work()
    return done


def undispatched(application: Application) -> list[int]:
    return list(
        Event.objects.filter(application=application, dispatched_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def hear(listener: DispatchListener, count: int) -> None:
    for _ in range(50):
        if len(listen.event_ids(listener.heard)) >= count:
            return
        listener.wait(0.1)
    raise AssertionError(f"heard {listener.heard}, expected {count} events")


@pytest.mark.parametrize("listening", [True, False], ids=["listen_on", "listen_off"])
def test_an_action_queues_its_dispatch_unless_a_worker_hears_of_it(
    people: People, queue: None, settings: Settings, listening: bool
) -> None:
    settings.NOTIFY_DISPATCH_LISTEN = listening
    water_connection(people)
    queued = DBTaskResult.objects.filter(task_path=DISPATCH).count()
    assert queued == (0 if listening and connection.vendor == "postgresql" else 1)


@pytest.mark.postgresql
def test_the_leading_worker_dispatches_the_events_it_hears_of(people: People, queue: None) -> None:
    leader = DispatchListener()
    try:
        assert leader.work() == 0 and leader.leading  # nothing waiting to catch up
        application = water_connection(people)
        events = undispatched(application)
        assert events and not DBTaskResult.objects.exists()
        hear(leader, len(events))
        assert leader.work() == len(events)
        assert undispatched(application) == []
        assert ("Ayesha", "sms", "submitted") in told(application=application)
        sms = Notification.objects.get(application=application, channel="sms")
        assert sms.status == Notification.Status.SENT  # sent by the leader, right after
    finally:
        leader.close()


@pytest.mark.postgresql
def test_one_worker_leads_and_the_next_dispatches_what_nobody_heard(
    people: People, queue: None, retry_at_once: None
) -> None:
    first, second = DispatchListener(), DispatchListener()
    try:
        first.work()
        second.work()
        assert first.leading and not second.leading  # one lock, one leader
        application = water_connection(people)
        events = undispatched(application)
        hear(first, len(events))
        first.close()  # stops before dispatching what it heard: its lock goes with it
        assert until_leading(second) == len(events) and second.leading
        assert undispatched(application) == []
    finally:
        first.close()
        second.close()


@pytest.mark.postgresql
def test_a_leader_whose_connection_drops_leads_again_and_catches_up(
    people: People, queue: None, retry_at_once: None
) -> None:
    leader = DispatchListener()
    try:
        leader.work()
        assert leader.connection is not None
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [leader.connection.info.backend_pid])
        application = water_connection(people)  # its NOTIFY reaches nobody
        events = undispatched(application)
        leader.wait(0.2)  # finds its connection gone
        assert not leader.leading and events
        assert leader.work() == len(events)
        assert leader.leading and undispatched(application) == []
    finally:
        leader.close()


@pytest.mark.postgresql
def test_what_the_leader_cannot_clear_at_once_goes_to_the_queue(
    people: People, queue: None, settings: Settings
) -> None:
    leader = DispatchListener()
    try:
        leader.work()
        applications = [water_connection(people) for _ in range(3)]
        events = [pk for application in applications for pk in undispatched(application)]
        hear(leader, len(events))
        settings.TASK_MERGE_MAX = 2
        assert leader.work() == 2  # the first two, in order; the rest queued, two a task
        left = events[2:]
        assert [pk for application in applications for pk in undispatched(application)] == left
        queued = DBTaskResult.objects.filter(task_path=DISPATCH).order_by("enqueued_at")
        assert [task.args_kwargs["args"] for task in queued] == [
            left[i : i + 2] for i in range(0, len(left), 2)
        ]
    finally:
        leader.close()


@pytest.mark.postgresql
def test_a_worker_with_the_listener_dispatches_and_lets_go_of_the_lock(
    people: People, queue: None
) -> None:
    application = water_connection(people)  # before any worker runs: nobody heard it
    assert undispatched(application)
    worker = Worker(
        queue_names=["default"],
        interval=0.01,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="listening",
        excluded_queue_names=[],
        listeners=[DispatchListener()],
    )
    worker.run()  # leads, catches up, finds the queue empty and stops
    assert undispatched(application) == []
    assert ("Ayesha", "sms", "submitted") in told(application=application)
    after = DispatchListener()
    try:
        after.work()
        assert after.leading  # the worker's lock went with it
    finally:
        after.close()
