"""One application's live stream: its events as Server-Sent Events messages, resumable."""

import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from ocsc.accounts.models import User
from ocsc.cases.access import access_application, sees_internal
from ocsc.cases.models import Application, Event
from ocsc.cases.queries import timeline
from ocsc.live import conf
from ocsc.live.broker import broker

# Events per query; a longer backlog takes several.
BATCH = 200
# Sent ids are re-read for this long (and at most RECENT_KEPT of them), see Cursor.
SETTLE_SECONDS = 10.0
RECENT_KEPT = 50

# What a message needs of the event and of its application (one query, joined).
COLUMNS = (
    "id",
    "kind",
    "actor_role",
    "from_state",
    "to_state",
    "action",
    "text",
    "visibility",
    "data",
    "created_at",
    "actor__name",
    "actor__phone",
    "step__state",
    "application__state",
    "application__category",
)


def watchable(user: User, tracking_no: str) -> tuple[Application, bool]:
    """The application if the user may see it (else Http404), and whether they see internal
    notes."""
    application = access_application(user, tracking_no)
    return application, sees_internal(user, application)


def message(event: Event) -> dict[str, Any]:
    actor = event.actor
    return {
        "id": event.pk,
        "kind": event.kind,
        "actor": (actor.name or actor.phone) if actor is not None else None,
        "actor_role": event.actor_role,
        "state": event.step.state if event.step is not None else None,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "action": event.action,
        "text": event.text,
        "visibility": event.visibility,
        "data": event.data,
        "created_at": event.created_at.isoformat(),
        "application": {
            "state": event.application.state,
            "category": event.application.category,
        },
    }


def read_messages(
    application: Application, *, internal: bool, after: int, skip: list[int], limit: int
) -> list[dict[str, Any]]:
    """The events after `after` (but those in `skip`) as messages, with the application's
    state and category as they are now: one query."""
    events = (
        timeline(application, internal=internal, after=after)
        .prefetch_related(None)
        .select_related("step", "application")
        .only(*COLUMNS)
    )
    if skip:
        events = events.exclude(pk__in=skip)
    return [message(event) for event in events[:limit]]


def encode(data: dict[str, Any]) -> str:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {data['id']}\nevent: timeline\ndata: {payload}\n\n"


class Cursor:
    """Where a stream is in the log.

    Event ids are taken at insert, so on PostgreSQL an event may commit just after one with a
    higher id. The stream therefore re-reads from before the ids it sent in the last
    SETTLE_SECONDS (at most RECENT_KEPT of them), skipping those: a late commit is still
    sent. `floor` is the id below which everything is settled.
    """

    def __init__(self, after: int) -> None:
        self.floor = after
        self._recent: deque[tuple[float, int]] = deque()

    @property
    def skip(self) -> list[int]:
        return [event_id for _, event_id in self._recent]

    def sent(self, event_ids: list[int], now: float) -> None:
        self._recent.extend((now, event_id) for event_id in event_ids)
        self.settle(now)

    def settle(self, now: float) -> None:
        while self._recent and (
            len(self._recent) > RECENT_KEPT or self._recent[0][0] <= now - SETTLE_SECONDS
        ):
            _, event_id = self._recent.popleft()
            self.floor = max(self.floor, event_id)


async def events(application: Application, *, internal: bool, after: int) -> AsyncIterator[str]:
    """`retry`, the events after `after`, then each new one as it commits; a keepalive comment
    after a quiet spell; the end after LIVE_STREAM_SECONDS (the client resumes)."""
    # Only the key is kept for the stream's life: the access check's object carries its
    # service's form and process spec (tens of KiB, times every open stream).
    application = Application(pk=application.pk)
    waiter = broker.watch(application.pk)  # before the first read: nothing slips between
    loop = waiter.loop
    try:
        yield f"retry: {conf.RETRY_MS}\n\n"
        cursor = Cursor(after)
        keepalive = conf.keepalive_seconds()
        deadline = loop.time() + conf.stream_seconds()
        last_write = loop.time()
        woken = True
        while True:
            if woken:
                found = await broker.read(
                    read_messages,
                    application,
                    internal=internal,
                    after=cursor.floor,
                    skip=cursor.skip,
                    limit=BATCH,
                )
                woken = len(found) == BATCH  # a long backlog: read on at once
                if found:
                    sent = [data["id"] for data in found]
                    chunk = "".join(encode(data) for data in found)
                    del found  # none of it is kept while the stream waits
                    yield chunk
                    del chunk
                    last_write = loop.time()
                    cursor.sent(sent, last_write)
                if woken:
                    continue
            now = loop.time()
            if now >= deadline:
                return
            if now - last_write >= keepalive:
                yield ": keepalive\n\n"
                last_write = now
            cursor.settle(now)
            woken = await waiter.wait(min(deadline, last_write + keepalive) - now)
    finally:
        broker.release(waiter)
