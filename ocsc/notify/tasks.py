"""The worker's tasks (ids only), and the `event_committed` receiver that queues them."""

import logging
from typing import Any

from django.conf import settings
from django.db import connections
from django.tasks import task, task_backends
from django_tasks_db.backend import DatabaseBackend

from ocsc.taskqueue import merged

log = logging.getLogger(__name__)


@task()
def dispatch(*event_ids: int) -> int:
    """Make the notifications of Events committed together (each Event once), and send
    them; returns how many were made."""
    return dispatch_together([list(event_ids)])[0]


@merged(dispatch)
def dispatch_together(calls: list[list[Any]]) -> list[int]:
    """The `dispatch` calls waiting in the queue, in one transaction (the worker merges them
    under load): the notifications each call's Events made."""
    from ocsc.notify.actions import dispatch_events

    made = dispatch_events(
        [event_id for event_ids in calls for event_id in event_ids], send_now=True
    )
    return [sum(made.get(event_id, 0) for event_id in event_ids) for event_ids in calls]


@task()
def deliver_notification(notification_id: int) -> str | None:
    """One attempt at sending a notification."""
    from ocsc.notify.actions import deliver

    return deliver(notification_id)


def dispatch_listened() -> bool:
    """Whether the Events of a commit are left to the worker that listens for their NOTIFY
    (ocsc/notify/listen.py), with no `dispatch` task: on PostgreSQL, where `ocsc.live`
    NOTIFYs every Event, with the database task backend, unless NOTIFY_DISPATCH_LISTEN is
    off."""
    return bool(
        settings.NOTIFY_DISPATCH_LISTEN
        and connections["default"].vendor == "postgresql"
        and isinstance(task_backends[dispatch.backend], DatabaseBackend)
    )


def on_event_committed(sender: Any, *, event_ids: tuple[int, ...], **kwargs: Any) -> None:
    """Queue the dispatch of Events that have just committed (one task for those of one
    transaction), unless a worker hears of them (`dispatch_listened`). Whatever goes wrong
    here, the periodic sweep dispatches them later: the Event row is the outbox."""
    try:
        if dispatch_listened():
            return
        dispatch.enqueue(*event_ids)
    except Exception:
        log.exception("could not queue the dispatch of events %s; the sweep will", event_ids)
