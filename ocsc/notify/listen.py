"""The Events' dispatch on PostgreSQL without a task per action (docs/notify.md).

Every Event is announced after its commit on the live updates' NOTIFY channel
(`ocsc.live`: payload '<application id>:<event id>'), which the app servers' streams listen
to. One worker listens to it too, the one that holds the advisory lock `LEAD_LOCK`, and
dispatches the Events it hears of: those heard together in one transaction, as the queue's
merged `dispatch` calls were. The action then writes no task row for the dispatch, and no
worker claims one or records its outcome: three statements per action, each a commit of its
own (bench/README.md, the tenth round). Elsewhere (SQLite, the immediate backend of the tests,
NOTIFY_DISPATCH_LISTEN off) each transaction's Events are queued as a `dispatch` task.

Nothing depends on a NOTIFY arriving: the Event row is the outbox (`dispatched_at`). A worker
that comes to lead (at its start, or once the leader's session has ended and taken its lock
with it) first dispatches every Event still undispatched; the others try for the lock every
LEAD_RETRY_SECONDS. An Event whose NOTIFY was never sent (the app died right after its
commit) or whose dispatch failed is dispatched by the timers' sweep after
NOTIFY_SWEEP_AFTER_SECONDS, as before.

The leader sends what it dispatches itself (`send_now`), one Event's notifications after
another. When it hears of more Events than it dispatches in one go (TASK_MERGE_MAX: a slow
gateway, a burst), it queues the rest as `dispatch` tasks, which any worker takes: the work
spreads over the workers only when one cannot keep up.
"""

import logging
import time
import zlib
from collections.abc import Iterable, Sequence
from itertools import batched

import psycopg
from django.conf import settings

from ocsc.cases.models import Event
from ocsc.live import conf as live
from ocsc.live.broker import listen_params
from ocsc.notify.actions import dispatch_events
from ocsc.notify.tasks import dispatch

log = logging.getLogger(__name__)

LEAD_LOCK = zlib.crc32(b"ocsc.notify.listen")  # the advisory lock the leading worker holds
LEAD_RETRY_SECONDS = 5.0  # how often a worker that does not lead tries for the lock
CATCH_UP_BATCH = 200  # Events read at a time when coming to lead


def event_ids(payloads: Iterable[str]) -> list[int]:
    """The Event ids of NOTIFY payloads ('<application id>:<event id>'), in order, each once;
    a payload of another shape is skipped."""
    found: dict[int, None] = {}
    for payload in payloads:
        _, _, event_id = payload.partition(":")
        if event_id.isdigit():
            found[int(event_id)] = None
    return list(found)


def dispatch_heard(ids: Sequence[int]) -> int:
    """Dispatch Events, TASK_MERGE_MAX at a time, each batch in one transaction, and send
    their notifications; a batch that fails is tried an Event at a time, and an Event that
    still fails is left for the sweep. Returns how many Events this call dispatched."""
    done = 0
    for chunk in batched(ids, settings.TASK_MERGE_MAX, strict=False):
        try:
            done += len(dispatch_events(chunk, send_now=True))
            continue
        except Exception:
            log.exception("dispatching events %s together failed: each alone", list(chunk))
        for event_id in chunk:
            try:
                done += len(dispatch_events([event_id], send_now=True))
            except Exception:
                log.exception("dispatching event %s failed; the sweep tries again", event_id)
    return done


def catch_up() -> int:
    """Dispatch every Event still undispatched, in id order, a batch at a time (those whose
    dispatch fails are passed over, for the sweep). Returns how many were dispatched."""
    done, after = 0, 0
    while True:
        ids = list(
            Event.objects.filter(dispatched_at__isnull=True, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:CATCH_UP_BATCH]
        )
        done += dispatch_heard(ids)
        if len(ids) < CATCH_UP_BATCH:
            return done
        after = ids[-1]


class DispatchListener:
    """A worker's `Listener` (ocsc.taskqueue) of the Events' NOTIFY channel, on a connection
    of its own outside Django's (and its pool), kept while the worker runs. Only while it
    holds LEAD_LOCK on that connection does it LISTEN and dispatch."""

    def __init__(self) -> None:
        self.connection: psycopg.Connection[tuple[object, ...]] | None = None
        self.leading = False
        self.heard: list[str] = []
        self._next_try = 0.0  # time.monotonic() of the next try for the lock

    def work(self) -> int:
        """Dispatch the Events heard of since the last call, and on coming to lead every Event
        still undispatched; returns how many were dispatched."""
        done = 0
        if not self.leading:
            if time.monotonic() < self._next_try or not self._lead():
                return 0
            try:
                done += catch_up()
            except Exception:
                self.close()  # to lead and catch up again at the next try
                raise
        self._receive(0.0)
        ids, self.heard = event_ids(self.heard), []
        mine, rest = ids[: settings.TASK_MERGE_MAX], ids[settings.TASK_MERGE_MAX :]
        for chunk in batched(rest, settings.TASK_MERGE_MAX, strict=False):
            dispatch.enqueue(*chunk)  # more than this worker clears at once: any worker
        return done + dispatch_heard(mine)

    def wait(self, timeout: float) -> None:
        if self.leading:
            self._receive(timeout, stop_after=1)
        else:
            time.sleep(max(0.0, min(timeout, self._next_try - time.monotonic())))

    def close(self) -> None:
        """Close the connection: PostgreSQL releases the lock, and another worker leads."""
        self.leading = False
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _lead(self) -> bool:
        """Try for the lock (connecting first if need be); LISTEN once it is held."""
        self._next_try = time.monotonic() + LEAD_RETRY_SECONDS
        try:
            if self.connection is None or self.connection.closed:
                self.connection = psycopg.Connection.connect(**listen_params(), autocommit=True)
            held = self.connection.execute(
                "SELECT pg_try_advisory_lock(%s)", [LEAD_LOCK]
            ).fetchone()
            if held is None or not held[0]:
                return False
            self.connection.execute(f"LISTEN {live.CHANNEL}")
        except psycopg.Error:
            log.warning("the dispatch listener could not connect; it tries again", exc_info=True)
            self.close()
            return False
        self.leading = True
        log.info("this worker dispatches the Events it hears of (lock %s)", LEAD_LOCK)
        return True

    def _receive(self, timeout: float, stop_after: int | None = None) -> None:
        """Take the NOTIFYs that arrive within `timeout` seconds (at most `stop_after`)."""
        if self.connection is None:
            return
        try:
            for notice in self.connection.notifies(timeout=timeout, stop_after=stop_after):
                self.heard.append(notice.payload)
        except psycopg.Error:
            # What it missed meanwhile, the next leader's catch-up (maybe its own) dispatches.
            log.warning("the dispatch listener lost its connection", exc_info=True)
            self.close()
