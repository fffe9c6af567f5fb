"""The task queue on the database: django-tasks-db's table, with SQL built once per process.

The Tasks API's database backend (`django_tasks_db`) keeps the queue in one table, and its
worker (`manage.py db_worker`) takes a task in four statements and a transaction (lock the
first ready row, mark it running, commit), each built again by the ORM for every task, and
records the outcome with `Model.save()`. Under the lifecycle benchmark that loop was about a
third of a worker's CPU (bench/README.md). The same table is worked here with fixed SQL:

- `DatabaseBackend.enqueue` writes the task's row with one INSERT built once
  (`ocsc.compiled.insert`);
- `Worker` (`manage.py run_worker`) takes the next ready task with one UPDATE … RETURNING whose
  subquery locks the row with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so that several workers
  share the queue and no two run the same task (on SQLite the statement holds the database's
  write lock), and records the outcome with one UPDATE (`ocsc.compiled.update`);
- a task may say how several of its calls run as one (`merged`: the notifications' dispatch
  does). When the worker takes a call of such a task, it takes the calls of it waiting behind
  (up to TASK_MERGE_MAX in all, one UPDATE), runs them together and records their outcomes
  in one UPDATE. No call is held back to be merged: at rest each runs alone as soon as a
  worker takes it; under load, those that queued up meanwhile run together;
- a worker may also do work it is told of otherwise than by a row (`Listener`: on PostgreSQL,
  notify's dispatch of the Events it hears of by NOTIFY, ocsc/notify/listen.py): between
  tasks it does what its listeners heard, and when the queue is empty it waits on them
  rather than sleeping, so that what they hear is done at once.

The rows, their statuses and their order (priority, then run_after, then enqueued_at) are
django-tasks-db's, so its admin, `prune_db_task_results` and its own `db_worker` still work on
the same queue.
"""

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, partial
from traceback import format_exception
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.db import DEFAULT_DB_ALIAS, OperationalError, close_old_connections, connections
from django.db.models import Case, JSONField, Value, When
from django.tasks import Task, TaskContext, TaskResultStatus
from django.tasks.signals import task_enqueued
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.backend import DatabaseBackend as BaseDatabaseBackend
from django_tasks_db.backend import TaskResult
from django_tasks_db.compat import normalize_json
from django_tasks_db.management.commands.db_worker import Worker as BaseWorker
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import is_locked_database_exception

from ocsc.compiled import insert, update

log = logging.getLogger("django_tasks_db")  # db_worker's ("django.tasks" prints twice in DEBUG)
FINISH_TRIES = 3  # as django-tasks-db's set_successful / set_failed
FINISH_PAUSE = 0.1  # seconds between those tries


class DatabaseBackend(BaseDatabaseBackend):
    """django-tasks-db's backend, whose INSERT is built once (`ocsc.compiled.insert`)."""

    def enqueue(self, task: Task[Any, Any], args: Any, kwargs: Any) -> TaskResult[Any, Any]:
        self.validate_task(task)
        arguments: dict[str, Any] = normalize_json({"args": args, "kwargs": kwargs})  # type: ignore[assignment]
        row: DBTaskResult[Any, Any] = DBTaskResult(
            id=self._get_id(),
            status=TaskResultStatus.READY,
            args_kwargs=arguments,
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            backend_name=self.alias,
            run_after=task.run_after or get_date_max(),
            worker_ids=[],
        )
        insert([row])  # (enqueued_at, auto_now_add, is set as it is written)
        result: TaskResult[Any, Any] = TaskResult(
            db_result=row,
            task=task,
            id=str(row.id),
            status=TaskResultStatus.READY,
            enqueued_at=row.enqueued_at,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=arguments["args"],
            kwargs=arguments["kwargs"],
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        task_enqueued.send(type(self), task_result=result)
        return result


@dataclass(frozen=True)
class Claimed:
    """A task taken from the queue by this worker."""

    id: Any  # as the database gives it back (a UUID on PostgreSQL, text on SQLite)
    task_path: str
    args: list[Any]
    kwargs: dict[str, Any]


_TABLE = DBTaskResult._meta.db_table


@cache
def claim_sql(vendor: str, queues: int, *, more: bool = False) -> str:
    """Take the first ready task of `queues` queue names (0: any queue) and mark it running;
    with `more`, up to a number of ready tasks of one task path (`Worker.claim_more`).
    'READY' is written into the SQL, not bound, so that a prepared plan still uses the
    queue's partial index (status = 'READY')."""
    if vendor == "postgresql":
        lock, append = " FOR UPDATE SKIP LOCKED", "worker_ids || jsonb_build_array(%s::text)"
    elif vendor == "sqlite":
        lock, append = "", "json_insert(worker_ids, '$[#]', %s)"
    else:
        raise ImproperlyConfigured(f"the task worker runs on PostgreSQL or SQLite, not {vendor}")
    in_queues = f" AND queue_name IN ({', '.join(['%s'] * queues)})" if queues else ""
    of_path, which, limit = (" AND task_path = %s", "IN", "%s") if more else ("", "=", "1")
    return (  # (S608: the model's table name)
        f"UPDATE {_TABLE} SET status = 'RUNNING', started_at = %s, worker_ids = {append} "  # noqa: S608
        f"WHERE id {which} (SELECT id FROM {_TABLE} WHERE status = 'READY' AND backend_name = %s"
        f"{in_queues}{of_path} AND (run_after = %s OR run_after <= %s)"
        f" ORDER BY priority DESC, run_after, enqueued_at LIMIT {limit}{lock}) "
        "RETURNING id, task_path, args_kwargs"
    )


# The tasks whose calls waiting in the queue a worker runs together (`merged`): task path →
# a function of the calls' positional arguments that returns each call's value.
Merge = Callable[[list[list[Any]]], list[Any]]
_MERGES: dict[str, Merge] = {}


def merged[M: Merge](task: Task[Any, Any]) -> Callable[[M], M]:
    """Declare how to run several waiting calls of `task` (positional arguments only) as one:
    under load a worker takes up to TASK_MERGE_MAX of them at once and runs them with the
    decorated function, which returns each call's value in order. If that raises, each call
    is run alone, as it would have been, and its own outcome recorded."""

    def register(merge: M) -> M:
        _MERGES[task.module_path] = merge
        return merge

    return register


@cache
def _task(path: str) -> Task[Any, Any]:
    found = import_string(path)
    if not isinstance(found, Task):
        raise SuspiciousOperation(f"{path} is not a task")
    return found


class Listener(Protocol):
    """Work a worker is told of otherwise than by the queue's rows."""

    def work(self) -> int:
        """Do what was heard since the last call; how much was done."""

    def wait(self, timeout: float) -> None:
        """Sleep up to `timeout` seconds, less when something is heard."""

    def close(self) -> None: ...


class Worker(BaseWorker):
    """django-tasks-db's worker (its options, signals and shutdown), taking tasks with
    `claim_sql` and recording their outcomes with `ocsc.compiled.update`; between tasks, and
    when the queue is empty, it works and waits on its `listeners`."""

    def __init__(self, *, listeners: Sequence[Listener] = (), **options: Any) -> None:
        super().__init__(**options)
        self.listeners = list(listeners)

    def claim(self) -> Claimed | None:
        """The next ready task, marked running by this worker; None when there is none."""
        claimed = self._claim(None, 1)
        return claimed[0] if claimed else None

    def claim_more(self, task_path: str, limit: int) -> list[Claimed]:
        """Up to `limit` more ready tasks of `task_path`, in the queue's order, marked
        running by this worker."""
        return self._claim(task_path, limit)

    def _claim(self, task_path: str | None, limit: int) -> list[Claimed]:
        connection = connections[DEFAULT_DB_ALIAS]
        queues = [] if self.process_all_queues else self.queue_names
        adapt = connection.ops.adapt_datetimefield_value
        more = [task_path] if task_path is not None else []
        params = [
            adapt(timezone.now()),
            self.worker_id,
            self.backend_name,
            *queues,
            *more,
            adapt(get_date_max()),
            adapt(timezone.now()),
            *([limit] if more else []),
        ]
        with connection.cursor() as cursor:
            cursor.execute(claim_sql(connection.vendor, len(queues), more=bool(more)), params)
            rows = cursor.fetchall()
        claimed = []
        for task_id, path, arguments in rows:
            if isinstance(arguments, str):
                arguments = json.loads(arguments)
            claimed.append(Claimed(task_id, path, arguments["args"], arguments["kwargs"]))
        return claimed

    def run(self) -> None:
        log.info("Starting worker worker_id=%s queues=%s", self.worker_id, self.queue_names)
        if self.startup_delay and self.interval:
            time.sleep(self.interval)  # workers started together do not all look at once
        try:
            self._run()
        finally:
            for listener in self.listeners:
                listener.close()

    def _run(self) -> None:
        while self.running:
            _fresh_connections()
            self.listen()
            try:
                claimed = self.claim()
            except OperationalError as exc:
                if not is_locked_database_exception(exc):  # SQLite busy: try again later
                    raise
                claimed, looked = None, False
            else:
                looked = True
            if claimed is not None:
                self.run_with_waiting(claimed)
            elif self.batch and looked:
                log.info("No more tasks to run for worker_id=%s - exiting.", self.worker_id)
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            if self.running and claimed is None:
                self.pause()

    def listen(self) -> None:
        """Do what the listeners heard (as a task: a signal to stop lets it finish). One that
        fails is logged: it has left its work where the timers' sweep finds it."""
        for listener in self.listeners:
            self.running_task = True
            try:
                listener.work()
            except Exception:
                log.exception("%s failed; its work waits for the sweep", type(listener).__name__)
            finally:
                self.running_task = False

    def pause(self) -> None:
        """The queue is empty: wait the interval, or less when a listener hears something."""
        if self.listeners:
            self.listeners[0].wait(self.interval)
        else:
            time.sleep(self.interval)

    def run_with_waiting(self, claimed: Claimed) -> None:
        """Run a claimed task, together with the calls of it waiting in the queue when its
        task merges them (`merged`); else alone."""
        merge = _merge_of(claimed)
        room = settings.TASK_MERGE_MAX - 1
        if self.max_tasks is not None:
            room = min(room, self.max_tasks - self._run_tasks - 1)
        waiting: list[Claimed] = []
        if merge is not None and room > 0:
            try:
                waiting = self.claim_more(claimed.task_path, room)
            except OperationalError as exc:
                if not is_locked_database_exception(exc):  # SQLite busy: this one alone
                    raise
        calls = [claimed, *(call for call in waiting if not call.kwargs)]
        alone = [call for call in waiting if call.kwargs]  # not the merged function's kind
        if merge is None or len(calls) == 1:
            alone.insert(0, claimed)
        else:
            self.run_merged(merge, calls)
        for call in alone:
            self.run_claimed(call)

    def run_merged(self, merge: Merge, calls: list[Claimed]) -> None:
        """Run calls of one task as one (`merged`) and record each one's value; if that
        fails, run each alone."""
        path = calls[0].task_path
        self.running_task = True
        try:
            log.info("Tasks x%s path=%s state=RUNNING", len(calls), path)
            values = [normalize_json(value) for value in merge([call.args for call in calls])]
            if len(values) != len(calls):
                raise ValueError(f"{len(calls)} calls merged, {len(values)} values returned")
        except Exception:
            log.exception("Tasks x%s path=%s failed merged: each runs alone", len(calls), path)
            self.running_task = False
            for call in calls:
                self.run_claimed(call)
            return
        except BaseException as exc:  # SystemExit, KeyboardInterrupt: recorded, and stop
            for call in calls:
                self.finish(call, TaskResultStatus.FAILED, None, exc)
            self.running_task = False
            self._run_tasks += len(calls)
            raise
        try:
            self.finish_all(calls, values)
            log.info("Tasks x%s path=%s state=SUCCESSFUL", len(calls), path)
        finally:
            self.running_task = False
            self._run_tasks += len(calls)

    def run_claimed(self, claimed: Claimed) -> None:
        """Run the task and record how it went (its value, or its exception and traceback)."""
        self.running_task = True
        try:
            log.info("Task id=%s path=%s state=RUNNING", claimed.id, claimed.task_path)
            try:
                task = _task(claimed.task_path)
                if task.takes_context:
                    record = DBTaskResult.objects.get(pk=claimed.id)
                    context: TaskContext[Any, Any] = TaskContext(task_result=record.task_result)
                    value = task.call(context, *claimed.args, **claimed.kwargs)
                else:
                    value = task.call(*claimed.args, **claimed.kwargs)
                value = normalize_json(value)
            except BaseException as exc:
                self.finish(claimed, TaskResultStatus.FAILED, None, exc)
                log.exception("Task id=%s path=%s state=FAILED", claimed.id, claimed.task_path)
                if not isinstance(exc, Exception):
                    raise  # SystemExit, KeyboardInterrupt: recorded, and the worker stops
            else:
                self.finish(claimed, TaskResultStatus.SUCCESSFUL, value, None)
                log.info("Task id=%s path=%s state=SUCCESSFUL", claimed.id, claimed.task_path)
        finally:
            self.running_task = False
            self._run_tasks += 1

    def finish(
        self,
        claimed: Claimed,
        status: TaskResultStatus,
        value: Any,
        exc: BaseException | None,
    ) -> None:
        outcome = {
            "status": status.value,
            "finished_at": timezone.now(),
            "return_value": value,
            "exception_class_path": ""
            if exc is None
            else f"{type(exc).__module__}.{type(exc).__qualname__}",
            "traceback": "" if exc is None else "".join(format_exception(exc)),
        }
        _persist(partial(update, DBTaskResult, {"pk": claimed.id}, **outcome))

    def finish_all(self, calls: list[Claimed], values: list[Any]) -> None:
        """Record calls that succeeded, each with its value, in one statement."""
        values_of = Case(
            *(
                When(pk=call.id, then=Value(value, JSONField()))
                for call, value in zip(calls, values, strict=True)
            )
        )
        rows = DBTaskResult.objects.filter(pk__in=[call.id for call in calls])
        _persist(
            partial(
                rows.update,
                status=TaskResultStatus.SUCCESSFUL.value,
                finished_at=timezone.now(),
                return_value=values_of,
                exception_class_path="",
                traceback="",
            )
        )


def _persist(write: Callable[[], object]) -> None:
    """Write a task's outcome, trying again a few times, as django-tasks-db's
    set_successful does (SQLite busy, a connection dropped)."""
    for attempt in range(1, FINISH_TRIES + 1):
        try:
            write()
            return
        except OperationalError:
            if attempt == FINISH_TRIES:
                raise
            _fresh_connections()
            time.sleep(FINISH_PAUSE)


def _merge_of(claimed: Claimed) -> Merge | None:
    """How to run waiting calls of the claimed task together, if its task says (importing
    the task registers it); None for a task that does not, or cannot be found."""
    if claimed.kwargs:
        return None
    try:
        _task(claimed.task_path)
    except Exception:  # run_claimed records why
        return None
    return _MERGES.get(claimed.task_path)


def _fresh_connections() -> None:
    """Drop broken or expired connections, as a request would (not inside a caller's
    transaction: a worker run from a test or a script)."""
    if not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        close_old_connections()
