"""The worker looks for the official's step an action opened only where the process says
one opens: not after a return to the applicant, nor after a decision that ends it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ocsc.cases.actions import take_action
from ocsc.cases.models import Application, Event
from ocsc.notify.actions import dispatch_event
from ocsc.notify.models import Notification
from tests.notify.conftest import Run, told
from tests.personas import People, water_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

# The read of the step an event opened, by its entry time (rules._arrived).
ARRIVED = '"cases_step"."entered_at" = '


def _redispatched(event: Event) -> list[str]:
    """The statements of dispatching `event` again, from scratch."""
    Event.objects.filter(pk=event.pk).update(dispatched_at=None)
    Notification.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        dispatch_event(event.pk)
    return [q["sql"] for q in queries]


@pytest.mark.parametrize(
    ("action", "comment", "looked", "told_to"),
    [
        ("forward", "", True, {("Ayesha", "in_app", "progress"), ("Sana", "in_app", "work")}),
        (
            "return",
            "The CNIC copy is unreadable.",
            False,
            {("Ayesha", "in_app", "needs_you"), ("Ayesha", "sms", "needs_you")},
        ),
        (
            "reject",
            "Not in our area.",
            False,
            {("Ayesha", "in_app", "rejected"), ("Ayesha", "sms", "rejected")},
        ),
    ],
)
def test_the_opened_step_is_read_only_where_an_officials_step_opens(
    people: People, committed: Run, action: str, comment: str, looked: bool, told_to: set[object]
) -> None:
    application = committed(water_connection, people)
    application = Application.objects.select_related(
        "current_step", "organization", "service", "jurisdiction", "process"
    ).get(pk=application.pk)
    event = committed(take_action, application, actor=people.kamran, action=action, comment=comment)

    statements = _redispatched(event)

    assert any(ARRIVED in sql for sql in statements) is looked
    assert told() == told_to  # the same messages either way
