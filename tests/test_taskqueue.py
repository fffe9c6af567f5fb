"""The task queue's own SQL (`ocsc.taskqueue`): the rows django-tasks-db would write, taken in
its order by one worker or by several at once, each task once, with its outcome recorded where
the Tasks API reads it."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.tasks import TaskResultStatus, task, task_backends
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings

from ocsc.taskqueue import Worker, merged

RAN: list[tuple[int, int]] = []
QUEUE = {"BACKEND": "ocsc.taskqueue.DatabaseBackend", "QUEUES": ["default", "other"]}


@task()
def add(a: int, b: int) -> int:
    RAN.append((a, b))
    return a + b


@task()
def fail(reason: str) -> None:
    raise ValueError(reason)


MERGED: list[int] = []  # how many calls each merged run took


@task()
def total(*numbers: int) -> int:
    return totals([list(numbers)])[0]


@merged(total)
def totals(calls: list[list[Any]]) -> list[int]:
    if len(calls) > 1:
        MERGED.append(len(calls))
    if any(n < 0 for numbers in calls for n in numbers):
        raise ValueError("a negative number")
    return [sum(numbers) for numbers in calls]


@pytest.fixture
def queue(settings: Settings) -> None:
    settings.TASKS = {
        "default": QUEUE,
        "theirs": {**QUEUE, "BACKEND": "django_tasks_db.DatabaseBackend"},
    }
    RAN.clear()
    MERGED.clear()


def worker(name: str = "w1", queues: str = "default") -> Worker:
    return Worker(
        queue_names=queues.split(","),
        interval=0.01,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=name,
        excluded_queue_names=[],
    )


COMPARED = ("status", "args_kwargs", "priority", "task_path", "worker_ids", "queue_name")
COMPARED += ("run_after", "return_value", "exception_class_path", "traceback")


@pytest.mark.django_db
def test_a_task_is_queued_in_the_row_django_tasks_db_writes(queue: None) -> None:
    ours = add.using(priority=5).enqueue(2, b=3)
    theirs = add.using(priority=5, backend="theirs").enqueue(2, b=3)

    assert (ours.status, ours.args, ours.kwargs) == (TaskResultStatus.READY, [2], {"b": 3})
    mine, other = DBTaskResult.objects.get(pk=ours.id), DBTaskResult.objects.get(pk=theirs.id)
    assert [getattr(mine, f) for f in COMPARED] == [getattr(other, f) for f in COMPARED]
    assert (mine.backend_name, other.backend_name) == ("default", "theirs")
    assert mine.enqueued_at == ours.enqueued_at
    assert task_backends["default"].get_result(ours.id).status == TaskResultStatus.READY


@pytest.mark.django_db
def test_a_worker_runs_ready_tasks_in_order_and_records_each_outcome(queue: None) -> None:
    later = add.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(9, 9)
    elsewhere = add.using(queue_name="other").enqueue(8, 8)
    theirs = add.using(backend="theirs").enqueue(7, 7)
    low = add.using(priority=-5).enqueue(1, 1)
    first = add.enqueue(2, 2)
    second = add.enqueue(3, 3)
    failed = fail.enqueue("no gateway")
    urgent = add.using(priority=10).enqueue(4, 4)

    worker("w1").run()

    assert RAN == [(4, 4), (2, 2), (3, 3), (1, 1)]  # priority, then the order they came in
    backend = task_backends["default"]
    for result, value in ((urgent, 8), (first, 4), (second, 6), (low, 2)):
        done = backend.get_result(result.id)
        assert (done.status, done.return_value, done.worker_ids) == ("SUCCESSFUL", value, ["w1"])
        assert done.started_at is not None and done.finished_at is not None
    broken = backend.get_result(failed.id)
    assert broken.status == TaskResultStatus.FAILED
    [error] = broken.errors
    assert error.exception_class_path == "builtins.ValueError"
    assert "ValueError: no gateway" in error.traceback
    for waiting in (later, elsewhere, theirs):  # not due, another queue, another backend
        assert DBTaskResult.objects.get(pk=waiting.id).status == "READY"

    worker("w2", queues="default,other").run()
    assert RAN[-1] == (8, 8)
    assert backend.get_result(elsewhere.id).worker_ids == ["w2"]


@pytest.mark.django_db(transaction=True)
def test_workers_running_together_take_each_task_once(queue: None) -> None:
    results = [add.enqueue(n, 0) for n in range(40)]
    sums = [total.enqueue(n, 1000) for n in range(40)]  # merged by whichever worker takes them
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            worker(name).run()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert sorted(a for a, _ in RAN) == list(range(40))  # each once
    rows = DBTaskResult.objects.filter(pk__in=[r.id for r in results + sums])
    assert {(row.status, len(row.worker_ids)) for row in rows} == {("SUCCESSFUL", 1)}
    assert sorted(row.return_value for row in rows if row.task_path.endswith(".total")) == [
        n + 1000 for n in range(40)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_task_another_worker_holds_is_skipped_not_waited_for(queue: None) -> None:
    first, second = add.enqueue(1, 1), add.enqueue(2, 2)
    if connection.vendor != "postgresql":  # SQLite has no row locks: one writer at a time
        assert worker().claim() is not None
        return
    other = connection.copy()
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:  # another worker, in the middle of taking the first
            cursor.execute(
                f"SELECT id FROM {DBTaskResult._meta.db_table} WHERE id = %s FOR UPDATE",  # noqa: S608
                [first.id],
            )
            claimed: Any = worker().claim()
        assert claimed is not None and str(claimed.id) == second.id
        other.rollback()
    finally:
        other.close()
    assert worker().claim() is not None  # the first, once the other let it go


@pytest.mark.django_db
def test_calls_waiting_in_the_queue_run_merged_each_with_its_own_outcome(
    queue: None, settings: Settings
) -> None:
    settings.TASK_MERGE_MAX = 5
    calls = [total.enqueue(n, n) for n in range(5 + 3)]
    other = add.enqueue(1, 2)
    later = total.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(5)

    with CaptureQueriesContext(connection) as queries:
        worker("w1").run()

    assert MERGED == [5, 3]  # the first call and those waiting behind it, twice
    backend = task_backends["default"]
    for n, call in enumerate(calls):
        done = backend.get_result(call.id)
        assert (done.status, done.return_value, done.worker_ids) == ("SUCCESSFUL", 2 * n, ["w1"])
        assert done.started_at is not None and done.finished_at is not None
    assert backend.get_result(other.id).return_value == 3  # another task: alone
    assert DBTaskResult.objects.get(pk=later.id).status == "READY"  # not due
    # per merged run: take the first, take those waiting, record them all; then `add` (take,
    # record) and a last look at an empty queue
    assert len(queries) == 2 * 3 + 2 + 1


@pytest.mark.django_db
def test_when_a_merged_run_fails_each_call_runs_alone(queue: None) -> None:
    good, bad, other = total.enqueue(1, 2), total.enqueue(-1), total.enqueue(3)

    worker("w1").run()

    assert MERGED == [3]  # tried together once, then each alone
    backend = task_backends["default"]
    assert [backend.get_result(r.id).return_value for r in (good, other)] == [3, 3]
    assert {backend.get_result(r.id).status for r in (good, other)} == {"SUCCESSFUL"}
    broken = backend.get_result(bad.id)
    assert broken.status == TaskResultStatus.FAILED
    assert "ValueError: a negative number" in broken.errors[0].traceback


@pytest.mark.django_db
def test_a_merge_of_one_runs_each_call_alone(queue: None, settings: Settings) -> None:
    settings.TASK_MERGE_MAX = 1
    calls = [total.enqueue(n) for n in range(3)]

    worker("w1").run()

    assert MERGED == []
    backend = task_backends["default"]
    assert [backend.get_result(c.id).return_value for c in calls] == [0, 1, 2]
