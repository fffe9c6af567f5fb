"""Sending several queued notifications at once (`deliver_many`: the delivery task, the
retries, the sweep's resumed claims): each is sent once, in a fixed number of statements;
only what failed is tried again; what is not due or not queued is left alone."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings

from ocsc.accounts.models import User
from ocsc.notify.actions import deliver_many
from ocsc.notify.models import DeliveryAttempt, Notification
from tests.notify.gateways import FlakyGateway
from tests.personas import People

pytestmark = pytest.mark.django_db


def queued(user: User, channel: str, *, due_in: timedelta = timedelta(0)) -> Notification:
    now = timezone.now()
    return Notification.objects.create(
        recipient=user,
        channel=channel,
        key=f"test:{Notification.objects.count()}",
        reason="progress",
        topic="progress",
        address=user.phone if channel == "sms" else f"{user.pk}@example.org",
        title="Your application moved on",
        body="It is with the sub-engineer now.",
        status=Notification.Status.QUEUED,
        next_attempt_at=now + due_in,
        created_at=now,
    )


@pytest.fixture
def gateway(settings: Settings) -> type[FlakyGateway]:
    """SMS through FlakyGateway, up, with nothing sent yet."""
    settings.SMS_GATEWAY = "tests.notify.gateways.FlakyGateway"
    FlakyGateway.down, FlakyGateway.sent = False, []
    return FlakyGateway


def attempts(notification: Notification) -> list[tuple[int, bool, str]]:
    rows = DeliveryAttempt.objects.filter(notification=notification)
    return [(a.number, a.ok, a.error) for a in rows]


def test_each_due_notification_is_sent_once_in_a_fixed_number_of_statements(
    people: People, gateway: type[FlakyGateway], clock: time_machine.Traveller
) -> None:
    sms = [queued(u, "sms") for u in (people.ayesha, people.bilal, people.kamran)]
    email = queued(people.sana, "email")
    later = queued(people.nadia, "sms", due_in=timedelta(minutes=5))

    with CaptureQueriesContext(connection) as queries:
        statuses = deliver_many([n.pk for n in (*sms, email, later)])

    assert statuses == {n.pk: "sent" for n in (*sms, email)}
    # claim, read, count earlier attempts, record attempts, finish them, write the outcomes
    assert len(queries) == 6
    assert [to for to, _, _ in gateway.sent] == [n.address for n in sms]
    assert [m.to for m in mail.outbox] == [[email.address]]
    for notification, reference in zip(
        sms, ("flaky: ok-1", "flaky: ok-2", "flaky: ok-3"), strict=True
    ):
        notification.refresh_from_db()
        assert (notification.status, notification.reference) == ("sent", reference)
        assert notification.sent_at is not None
        assert attempts(notification) == [(1, True, "")]
    later.refresh_from_db()
    assert (later.status, later.attempts, attempts(later)) == ("queued", 0, [])

    assert deliver_many([n.pk for n in (*sms, email)]) == {}  # sent: never again
    assert len(gateway.sent) == 3


def test_what_fails_is_queued_again_with_its_own_attempt_and_the_rest_is_sent(
    people: People, gateway: type[FlakyGateway], clock: time_machine.Traveller
) -> None:
    gateway.down = True
    sms = queued(people.ayesha, "sms")
    email = queued(people.sana, "email")

    statuses = deliver_many([sms.pk, email.pk])

    assert statuses == {sms.pk: "queued", email.pk: "sent"}
    sms.refresh_from_db()
    assert sms.status == "queued" and sms.error == "the aggregator is down"
    assert sms.next_attempt_at == timezone.now() + timedelta(seconds=60)
    assert attempts(sms) == [(1, False, "the aggregator is down")]
    assert attempts(email) == [(1, True, "")]

    clock.shift(timedelta(seconds=60))
    gateway.down = False
    assert deliver_many([sms.pk, email.pk]) == {sms.pk: "sent"}
    assert attempts(sms) == [(1, False, "the aggregator is down"), (2, True, "")]


class SweptGateway(FlakyGateway):
    """Sends, but meanwhile the sweep has taken the claim back (its lease ran out)."""

    def send(self, phone: str, text: str, *, reference: str = "") -> str:
        Notification.objects.filter(address=phone).update(
            status=Notification.Status.QUEUED, claimed_at=None
        )
        return super().send(phone, text, reference=reference)


def test_one_notification_s_attempt_and_outcome_are_written_in_one_statement(
    people: People, gateway: type[FlakyGateway], settings: Settings, clock: time_machine.Traveller
) -> None:
    sms = queued(people.ayesha, "sms")

    with CaptureQueriesContext(connection) as queries:
        assert deliver_many([sms.pk]) == {sms.pk: "sent"}

    # claim, read, count earlier attempts, record the attempt; then the attempt's end and the
    # outcome: one statement on PostgreSQL, two elsewhere
    assert len(queries) == (5 if connection.vendor == "postgresql" else 6)
    sms.refresh_from_db()
    assert (sms.status, sms.reference, attempts(sms)) == ("sent", "flaky: ok-1", [(1, True, "")])

    # The claim taken back while sending: the attempt is finished, the outcome not written
    # over the sweep's, and nothing is reported as this caller's.
    settings.SMS_GATEWAY = "tests.notify.test_delivery.SweptGateway"
    again = queued(people.bilal, "sms")
    assert deliver_many([again.pk]) == {}
    again.refresh_from_db()
    assert (again.status, again.claimed_at, again.reference) == ("queued", None, "")
    assert attempts(again) == [(1, True, "")]
