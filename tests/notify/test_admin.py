"""The notifications in the admin (attempts, retry) and the lists' query counts."""

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from ocsc.accounts.models import User
from ocsc.cases.actions import add_comment
from ocsc.cases.models import Application
from ocsc.notify.actions import dispatch_event, dispatch_events
from ocsc.notify.models import Notification
from ocsc.notify.queries import inbox
from tests.notify.conftest import Run
from tests.notify.gateways import FlakyGateway
from tests.personas import People, water_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
NumQueries = Callable[[int], AbstractContextManager[object]]


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("03000000001", "pw-admin-2026", name="Admin"))
    return client


def comments(people: People, application: Application, count: int, committed: Run) -> None:
    """`count` public comments by the clerk: each an in-app notification to Ayesha."""
    for n in range(count):
        committed(add_comment, application, actor=people.kamran, text=f"Note {n}")


def test_lists_cost_the_same_for_5_and_50_notifications(
    people: People, committed: Run, admin_client: Client, django_assert_num_queries: NumQueries
) -> None:
    application = committed(water_connection, people)
    application = Application.objects.select_related("current_step").get(pk=application.pk)
    comments(people, application, 4, committed)  # with the receipt: 5 in her inbox

    def read_inbox() -> list[str]:
        return [f"{n.application.service.code}: {n.title}" for n in inbox(people.ayesha)]

    with django_assert_num_queries(1):
        assert len(read_inbox()) == 5
    with django_assert_num_queries(8):
        page = admin_client.get("/admin/notify/notification/")
    assert page.status_code == 200
    assert "7 notifications" in page.content.decode()  # with the SMS receipt and the clerk's

    comments(people, application, 45, committed)
    with django_assert_num_queries(1):
        assert len(read_inbox()) == 50
    with django_assert_num_queries(8):
        page = admin_client.get("/admin/notify/notification/")
    assert page.status_code == 200
    assert "52 notifications" in page.content.decode()


def test_making_an_event_s_notifications_costs_the_same_for_one_official_or_many(
    people: People, committed: Run, django_assert_num_queries: NumQueries
) -> None:
    from ocsc.accounts.actions import PostingInput, post_official
    from ocsc.cases.models import Event

    committed(water_connection, people)
    with django_assert_num_queries(12):
        Event.objects.update(dispatched_at=None)
        Notification.objects.all().delete()
        assert dispatch_event(Event.objects.get().pk) == 3
    for n in range(5):
        clerk = User.objects.create_user(f"0346{n:07d}", name=f"Clerk {n}", email=f"c{n}@x.org")
        post_official(clerk, PostingInput(organization="tma-mardan", role="clerk"))
    with django_assert_num_queries(12):
        Event.objects.update(dispatched_at=None)
        Notification.objects.all().delete()
        assert dispatch_event(Event.objects.get().pk) == 3 + 10  # in-app and e-mail each


def test_events_dispatched_together_share_every_statement_but_who_holds_each_step(
    people: People, committed: Run
) -> None:
    from ocsc.cases.models import Event
    from tests.personas import upload

    def submitted_by(citizen: User) -> Application:
        documents = {"cnic_copy": upload(citizen), "affidavit": upload(citizen)}
        return committed(water_connection, people, citizen=citizen, documents=documents)

    applications = [submitted_by(c) for c in (people.ayesha, people.bilal, people.ayesha)]
    events = [Event.objects.get(application=a).pk for a in applications]
    alone = Notification.objects.filter(event_id=events[0]).count()

    def dispatched(event_ids: list[int]) -> tuple[dict[int, int], int]:
        Event.objects.update(dispatched_at=None)
        Notification.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            made = dispatch_events(event_ids)
        return made, len(queries)

    one, statements = dispatched(events[:1])
    together, statements_together = dispatched(events)

    assert one == {events[0]: alone} and alone == 3  # Ayesha in-app and SMS, the clerk in-app
    assert together == dict.fromkeys(events, alone)
    assert statements_together == statements + 2  # + who holds the role of each further step
    assert Notification.objects.filter(event_id__in=events).count() == 3 * alone
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
    assert dispatch_events(events) == {}  # dispatched: never again


def test_a_notification_that_gave_up_shows_its_attempts_and_is_retried_from_the_admin(
    people: People, committed: Run, admin_client: Client, settings: Settings
) -> None:
    settings.SMS_GATEWAY = "tests.notify.gateways.FlakyGateway"
    settings.NOTIFY_MAX_ATTEMPTS = 1
    FlakyGateway.down, FlakyGateway.sent = True, []
    committed(water_connection, people)
    sms = Notification.objects.get(channel="sms")
    assert (sms.status, sms.error) == ("failed", "the aggregator is down")

    page = admin_client.get(f"/admin/notify/notification/{sms.pk}/change/").content.decode()
    assert "the aggregator is down" in page and "Delivery attempts" in page

    FlakyGateway.down = False
    response = committed(
        admin_client.post,
        "/admin/notify/notification/",
        {"action": "retry", "_selected_action": [str(sms.pk)]},
    )
    assert response.status_code == 302
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.delivery_attempts.count()) == ("sent", 1, 2)
    assert len(FlakyGateway.sent) == 1
