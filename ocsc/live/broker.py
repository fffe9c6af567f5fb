"""Wakes the live streams when an Event commits.

A stream registers a `Waiter` for its application and sleeps on it; whatever wakes the
waiter, the stream then re-reads the log after the last event it sent (one query). Three
paths wake waiters, so a stream never depends on one of them alone:

- **in-process**: `cases` sends `event_committed` after commit, in whatever thread committed.
  The handler finds the event's application and wakes its waiters, each on its own event loop
  (`loop.call_soon_threadsafe`).
- **PostgreSQL LISTEN/NOTIFY** (when the default database is PostgreSQL): the same handler
  runs `pg_notify('ocsc_events', '<application id>:<event id>')` on the default connection,
  and each event loop (one per ASGI process) holds one LISTEN connection, opened with its
  first stream and closed when its last stream ends, which wakes the loop's waiters. Events
  made on another app server, or by a worker, reach every server this way. A dropped
  listener reconnects with backoff and then wakes all its streams once, since it may have
  missed notifications meanwhile.
- **the poll**: every `LIVE_POLL_SECONDS` each event loop runs one query for the count and
  last id of the watched applications' events, and wakes the streams of those that changed.
  It is how the worker's events (another process) reach an embedded SQLite server, and the
  safety net when a listener is down.

An idle stream costs no query; each process polls once per interval whatever the number of
streams. The streams' reads and the poll run in a few reader threads of the loop (`Readers`),
each on a database connection of its own, outside any pool: a read never queues behind the
requests that hold the pool's connections. They are opened with the loop's first stream and
closed when its last one ends. Other database work (the access check when a stream opens)
runs in a worker thread whose connection is given back afterwards, as a request's is
(`run_db`).
"""

import asyncio
import contextvars
import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from itertools import batched
from typing import Any
from weakref import WeakKeyDictionary

import psycopg
from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, Max

from ocsc.cases.models import Event
from ocsc.live import conf

log = logging.getLogger(__name__)

# How often an idle listener checks whether its loop still has streams (seconds).
LISTEN_CHECK_SECONDS = 5.0
# Reconnection backoff of a dropped listener (seconds).
RECONNECT_FIRST, RECONNECT_MAX = 0.5, 30.0
# How many locally announced event ids are remembered, to ignore their NOTIFY echo.
ANNOUNCED_KEPT = 4096
# Reader threads (and so database connections) per event loop with streams.
READERS = 4


def _then_close[**P, T](fn: Callable[P, T]) -> Callable[P, T]:
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()  # as at the end of a request: honours CONN_MAX_AGE

    return call


async def run_db[**P, T](fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ORM code in a worker thread, then release its connection as a request would, so
    that a stream waiting for minutes holds no database connection meanwhile."""
    return await sync_to_async(_then_close(fn), thread_sensitive=False)(*args, **kwargs)


def own_connection() -> BaseDatabaseWrapper:
    """A connection to the default database for this thread alone, outside the pool if the
    settings have one."""
    default = connections["default"]
    options = default.settings_dict.get("OPTIONS", {})
    if "pool" not in options:
        return default
    unpooled = {key: value for key, value in options.items() if key != "pool"}
    return type(default)({**default.settings_dict, "OPTIONS": unpooled}, alias="default")


class Readers:
    """Threads that run one event loop's stream reads and polls, each on a connection of its
    own that it keeps until `stop` (as `close_if_unusable_or_obsolete` would, it closes one
    that failed, and the next read reconnects)."""

    def __init__(self, size: int = READERS) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None]
        self._jobs = queue.SimpleQueue()
        self._size = size
        for number in range(size):
            threading.Thread(target=self._work, name=f"ocsc-live-{number}", daemon=True).start()

    def submit[T](self, fn: Callable[[], T]) -> "Future[T]":
        future: Future[T] = Future()
        self._jobs.put((future, fn))
        return future

    def stop(self) -> None:
        """Each thread closes its connection and ends, after the reads already submitted."""
        for _ in range(self._size):
            self._jobs.put(None)

    def _work(self) -> None:
        connections["default"] = own_connection()
        try:
            while (job := self._jobs.get()) is not None:
                future, fn = job
                if not future.set_running_or_notify_cancel():
                    continue  # its stream went away meanwhile
                try:
                    future.set_result(fn())
                except BaseException as exc:
                    future.set_exception(exc)
                finally:
                    _close_if_unusable(connections["default"])
        finally:
            connections["default"].close()


def _close_if_unusable(db: BaseDatabaseWrapper) -> None:
    if db.connection is None:
        return
    if db.get_autocommit() != db.settings_dict["AUTOCOMMIT"] or (
        db.errors_occurred and not db.is_usable()
    ):
        db.close()
    else:
        db.errors_occurred = False


def uses_notify() -> bool:
    return connections["default"].vendor == "postgresql"


def listen_params() -> dict[str, Any]:
    """psycopg connection parameters of the default database (as Django connects to it)."""
    params: dict[str, Any] = connections["default"].get_connection_params()
    for django_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(django_only, None)
    params.setdefault("connect_timeout", 10)
    return params


def event_marks(application_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(number of events, last event id) per application: changes with every new event, even
    one committed after an event with a higher id."""
    marks: dict[int, tuple[int, int]] = {}
    for chunk in batched(application_ids, 500, strict=False):
        rows = (
            Event.objects.filter(application_id__in=chunk)
            .order_by()
            .values("application_id")
            .annotate(count=Count("id"), last=Max("id"))
            .values_list("application_id", "count", "last")
        )
        marks.update((application_id, (count, last)) for application_id, count, last in rows)
    return marks


class Waiter:
    """One stream's wake-up call: set from any thread, awaited on the stream's event loop."""

    def __init__(
        self, application_id: int, loop: asyncio.AbstractEventLoop, *, covered: bool = False
    ) -> None:
        self.application_id = application_id
        self.loop = loop
        # Whether the loop's listener was listening when the waiter was registered: then any
        # event committed afterwards is notified, and the poll need not wake it to make sure.
        self.covered = covered
        self._woken = asyncio.Event()

    def wake(self) -> None:
        """Only in `self.loop`'s thread; from elsewhere: `loop.call_soon_threadsafe(wake)`."""
        self._woken.set()

    async def wait(self, timeout: float) -> bool:
        """Whether woken (since the last wait returned True) within `timeout` seconds."""
        if not self._woken.is_set():
            try:
                async with asyncio.timeout(max(timeout, 0)):
                    await self._woken.wait()
            except TimeoutError:
                return False
        self._woken.clear()
        return True


@dataclass(eq=False)
class LoopState:
    """An event loop's background work: its poll and, on PostgreSQL, its listener."""

    poller: asyncio.Task[None] | None = None
    listener: asyncio.Task[None] | None = None
    listening: asyncio.Event = field(default_factory=asyncio.Event)
    backend_pid: int | None = None  # the listening connection's, while it listens
    marks: dict[int, tuple[int, int]] = field(default_factory=dict)
    readers: Readers | None = None  # while the loop has streams


class Broker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[int, set[Waiter]] = {}
        self._loops: WeakKeyDictionary[asyncio.AbstractEventLoop, LoopState] = WeakKeyDictionary()
        self._announced: OrderedDict[int, None] = OrderedDict()

    # Streams, on their event loop -------------------------------------------------------

    def watch(self, application_id: int) -> Waiter:
        """Register a waiter for the application; starts the loop's poll and listener."""
        loop = asyncio.get_running_loop()
        state = self.loop_state(loop)
        waiter = Waiter(application_id, loop, covered=state.listening.is_set())
        with self._lock:
            self._waiters.setdefault(application_id, set()).add(waiter)
        # Background tasks start from an empty context: they must not inherit the request's
        # (its thread-sensitive executor ends with the request).
        if state.poller is None:
            state.poller = loop.create_task(
                self._poll(loop, state), name="ocsc-live-poll", context=contextvars.Context()
            )
        if state.listener is None and uses_notify():
            state.listener = loop.create_task(
                self._listen(loop, state), name="ocsc-live-listen", context=contextvars.Context()
            )
        return waiter

    async def read[**P, T](self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ORM code for a stream or the poll in one of the loop's reader threads."""
        state = self.loop_state()
        if state.readers is None:
            state.readers = Readers()
        call = partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await asyncio.wrap_future(state.readers.submit(call))

    def release(self, waiter: Waiter) -> None:
        with self._lock:
            waiters = self._waiters.get(waiter.application_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[waiter.application_id]

    def loop_state(self, loop: asyncio.AbstractEventLoop | None = None) -> LoopState:
        loop = loop or asyncio.get_running_loop()
        with self._lock:
            state = self._loops.get(loop)
            if state is None:
                state = self._loops[loop] = LoopState()
            return state

    def watched(self, loop: asyncio.AbstractEventLoop | None = None) -> set[int]:
        """The applications with waiters (on `loop`, or on any loop)."""
        with self._lock:
            return {
                application_id
                for application_id, waiters in self._waiters.items()
                if loop is None or any(w.loop is loop for w in waiters)
            }

    # Waking -----------------------------------------------------------------------------

    def wake(self, application_id: int) -> int:
        """Wake the application's waiters on every loop, from any thread; how many."""
        with self._lock:
            waiters = list(self._waiters.get(application_id, ()))
        for waiter in waiters:
            try:
                waiter.loop.call_soon_threadsafe(waiter.wake)
            except RuntimeError:  # its loop has closed
                self.release(waiter)
        return len(waiters)

    def _wake_here(
        self,
        loop: asyncio.AbstractEventLoop,
        application_id: int | None,
        *,
        uncovered: bool = False,
    ) -> None:
        """Wake this loop's waiters (of one application, or all; with `uncovered`, only those
        registered while the loop's listener was not listening), in the loop's thread."""
        with self._lock:
            groups = (
                list(self._waiters.values())
                if application_id is None
                else [self._waiters.get(application_id, set())]
            )
            waiters = [
                w
                for group in groups
                for w in group
                if w.loop is loop and not (uncovered and w.covered)
            ]
        for waiter in waiters:
            waiter.wake()

    # The in-process path: cases' signal, in the thread that committed ----------------------

    def on_event_committed(
        self, sender: object, event_ids: tuple[int, ...], **kwargs: object
    ) -> None:
        """Wake this process's streams of the events' applications and, on PostgreSQL, tell
        the other processes. Never raises: the action that committed has succeeded."""
        try:
            if uses_notify():
                # Noted first: our own listener may hear the NOTIFY before it returns.
                with self._lock:
                    for event_id in event_ids:
                        self._announced[event_id] = None
                    while len(self._announced) > ANNOUNCED_KEPT:
                        self._announced.popitem(last=False)
                applications = self._notify(event_ids)
            elif self.watched():
                applications = set(
                    Event.objects.filter(pk__in=event_ids).values_list("application_id", flat=True)
                )
            else:
                return  # nobody watches here (a worker, say): the servers' poll will see it
        except Exception:
            log.exception("live: could not announce events %s", event_ids)
            return
        for application_id in applications:
            self.wake(application_id)

    def _notify(self, event_ids: tuple[int, ...]) -> set[int]:
        """NOTIFY the events (in order) on the default connection; their applications. The
        ids are one placeholder each (a transaction has one Event or a few): PostgreSQL planned
        `id = ANY(%s)` anew on every call, as its generic plan could not know the array's size."""
        table = connection.ops.quote_name(Event._meta.db_table)
        ids = ", ".join(["%s"] * len(event_ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT application_id, pg_notify(%s, application_id || ':' || id) "  # noqa: S608 - the model's table name
                f"FROM {table} WHERE id IN ({ids}) ORDER BY id",
                [conf.CHANNEL, *event_ids],
            )
            rows = cursor.fetchall()
        return {int(row[0]) for row in rows}

    # The poll: one query per loop and interval ---------------------------------------------

    async def _poll(self, loop: asyncio.AbstractEventLoop, state: LoopState) -> None:
        try:
            while True:
                await asyncio.sleep(conf.poll_seconds())
                watched = self.watched(loop)
                if not watched:
                    return  # no await since the check: a new stream restarts the poll
                try:
                    marks = await self.read(event_marks, sorted(watched))
                except Exception:
                    log.warning("live: the poll failed", exc_info=True)
                    continue
                for application_id in watched:
                    mark = marks.get(application_id, (0, 0))
                    known = state.marks.get(application_id)
                    if known != mark:
                        state.marks[application_id] = mark
                        # A new watch (no mark yet) is woken too: its stream read the log
                        # before this poll, and an event may have come in between. Not if
                        # the listener was listening when it registered: that event was
                        # notified (a thousand streams opened at once cost no more reads).
                        self._wake_here(loop, application_id, uncovered=known is None)
                for application_id in set(state.marks) - watched:
                    del state.marks[application_id]
        finally:
            # The loop has no stream left (or is closing): so much for its readers too.
            state.poller = None
            if state.readers is not None:
                state.readers.stop()
                state.readers = None

    # The PostgreSQL listener: one connection per loop ---------------------------------------

    def _wanted(self, loop: asyncio.AbstractEventLoop, state: LoopState) -> bool:
        """Whether the current task should go on listening for the loop. When the loop has no
        stream left it gives up its place, with no await between the check and the return,
        so that the next stream starts a new listener."""
        if state.listener is not asyncio.current_task():
            return False
        if self.watched(loop):
            return True
        state.listener = None
        return False

    async def _listen(self, loop: asyncio.AbstractEventLoop, state: LoopState) -> None:
        delay = RECONNECT_FIRST
        try:
            while self._wanted(loop, state):
                try:
                    async with await psycopg.AsyncConnection.connect(
                        autocommit=True, **listen_params()
                    ) as listening:
                        await listening.execute(f"LISTEN {conf.CHANNEL}")
                        state.backend_pid = listening.info.backend_pid
                        state.listening.set()
                        delay = RECONNECT_FIRST
                        # Notifications sent while no one listened are lost: re-read once.
                        self._wake_here(loop, None)
                        while self._wanted(loop, state):
                            async for note in listening.notifies(timeout=LISTEN_CHECK_SECONDS):
                                self._on_notify(loop, note.payload)
                except Exception:  # the connection dropped, or could not be made
                    log.warning(
                        "live: LISTEN connection lost; retry in %.1fs", delay, exc_info=True
                    )
                    if state.listener is asyncio.current_task():
                        state.listening.clear()
                        state.backend_pid = None
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RECONNECT_MAX)
        finally:
            if state.listener is asyncio.current_task():
                state.listener = None
            if state.listener is None:
                state.listening.clear()
                state.backend_pid = None

    def _on_notify(self, loop: asyncio.AbstractEventLoop, payload: str) -> None:
        application, _, event = payload.partition(":")
        try:
            application_id, event_id = int(application), int(event)
        except ValueError:
            log.warning("live: ignoring notification %r", payload)
            return
        with self._lock:
            if event_id in self._announced:
                return  # committed in this process: its streams were woken already
        self._wake_here(loop, application_id)


broker = Broker()
