"""The worker's tasks (ids only), and the `event_committed` receiver that queues them."""

import logging
from typing import Any

from django.tasks import task

log = logging.getLogger(__name__)


@task()
def dispatch(event_id: int) -> int:
    """Make an Event's notifications (once), and send them."""
    from ocsc.notify.actions import dispatch_event

    return dispatch_event(event_id, send_now=True)


@task()
def deliver_notification(notification_id: int) -> str | None:
    """One attempt at sending a notification."""
    from ocsc.notify.actions import deliver

    return deliver(notification_id)


def on_event_committed(sender: Any, *, event_id: int, **kwargs: Any) -> None:
    """Queue the dispatch of an Event that has just committed. Whatever goes wrong here, the
    periodic sweep dispatches the Event later: the Event row is the outbox."""
    try:
        dispatch.enqueue(event_id)
    except Exception:
        log.exception("could not queue the dispatch of event %s; the sweep will", event_id)
