"""The worker's tasks (ids only), and the `event_committed` receiver that queues them."""

import logging
from typing import Any

from django.tasks import task

log = logging.getLogger(__name__)


@task()
def dispatch(*event_ids: int) -> int:
    """Make the notifications of Events committed together (each once, in its own
    transaction), and send them."""
    from ocsc.notify.actions import dispatch_event

    return sum(dispatch_event(event_id, send_now=True) for event_id in event_ids)


@task()
def deliver_notification(notification_id: int) -> str | None:
    """One attempt at sending a notification."""
    from ocsc.notify.actions import deliver

    return deliver(notification_id)


def on_event_committed(sender: Any, *, event_ids: tuple[int, ...], **kwargs: Any) -> None:
    """Queue the dispatch of Events that have just committed (one task for those of one
    transaction). Whatever goes wrong here, the periodic sweep dispatches them later: the
    Event row is the outbox."""
    try:
        dispatch.enqueue(*event_ids)
    except Exception:
        log.exception("could not queue the dispatch of events %s; the sweep will", event_ids)
