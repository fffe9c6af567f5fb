"""What cases announces. `live` and `notify` subscribe; cases imports neither."""

from django.db import transaction
from django.dispatch import Signal

# Sent after the transaction that wrote Events commits, with `event_ids` (in order).
event_committed = Signal()


def announce(*event_ids: int) -> None:
    if event_ids:
        event_committed.send(sender="cases", event_ids=event_ids)


class _Announcement:
    """The Events of one transaction, announced together after it commits: one task to
    dispatch them and one NOTIFY statement, not one of each per Event."""

    def __init__(self, event_id: int) -> None:
        self.event_ids = [event_id]
        self.sent = False

    def __call__(self) -> None:
        self.sent = True
        announce(*self.event_ids)


def announce_on_commit(event_id: int) -> None:
    """Announce an Event after the transaction that writes it commits, with the Events
    written before it in the same transaction.

    It joins the transaction's announcement when that is the last thing to run on commit.
    The announcement was registered inside savepoints that are still open or were released
    (one rolled back would have taken it away), so it is never lost while this Event stands.
    If this Event's own savepoint is rolled back, it is announced all the same: those who
    listen find no such Event and do nothing."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and connection.run_on_commit:
        _, last, _ = connection.run_on_commit[-1]
        if isinstance(last, _Announcement) and not last.sent:  # (tests run callbacks early)
            last.event_ids.append(event_id)
            return
    transaction.on_commit(_Announcement(event_id))
