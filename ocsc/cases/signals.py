"""What cases announces. `live` and `notify` subscribe; cases imports neither."""

from django.dispatch import Signal

# Sent after the transaction that wrote an Event commits, with `event_id`.
event_committed = Signal()


def announce(event_id: int) -> None:
    event_committed.send(sender="cases", event_id=event_id)
