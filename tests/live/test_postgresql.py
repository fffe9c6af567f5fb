"""The scale profile: streams on one app server woken by events made on another, through
PostgreSQL LISTEN/NOTIFY; a dropped listener; events committed out of id order."""

import asyncio
import threading
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction

from ocsc.cases import actions
from ocsc.cases.actions import add_comment, take_action
from ocsc.cases.models import Application, Event
from ocsc.live import stream as stream_module
from ocsc.live.broker import broker, listen_params
from ocsc.live.conf import CHANNEL
from tests.live.sse import elsewhere, listening, run, watch
from tests.personas import People, water_connection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]


def reread(application: Application) -> Application:
    return Application.objects.select_related(
        "current_step", "organization", "service", "jurisdiction"
    ).get(pk=application.pk)


def forward(people: People, application: Application) -> Event:
    return take_action(reread(application), actor=people.kamran, action="forward")


def comment(people: People, application: Application, text: str) -> Event:
    return add_comment(reread(application), actor=people.kamran, text=text)


def notify_as_another_server(payload: str) -> None:
    with psycopg.connect(autocommit=True, **listen_params()) as other:
        other.execute("SELECT pg_notify(%s, %s)", [CHANNEL, payload])


@pytest.fixture
def announced_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Actions here announce nothing in this process: their events are as if made on
    another app server, which reaches this one only through the database."""
    monkeypatch.setattr(actions, "announce_on_commit", lambda event_id: None)


def test_an_action_notifies_every_server(people: People) -> None:
    application = water_connection(people)
    with psycopg.connect(autocommit=True, **listen_params()) as other_server:
        other_server.execute(f"LISTEN {CHANNEL}")
        forwarded = forward(people, application)
        notes = list(other_server.notifies(timeout=5.0, stop_after=1))
    assert [n.payload for n in notes] == [f"{application.pk}:{forwarded.pk}"]


@pytest.mark.usefixtures("announced_elsewhere")
def test_a_notify_from_another_server_wakes_the_stream(people: People) -> None:
    application = water_connection(people)

    async def scenario() -> None:
        stream = await watch(people.ayesha, application.tracking_no)
        await stream.event()
        await listening()
        forwarded = await elsewhere(lambda: forward(people, application))
        await elsewhere(lambda: notify_as_another_server(f"{application.pk}:{forwarded.pk}"))
        assert (await stream.event(timeout=1.0))["id"] == forwarded.pk
        await stream.close()

    run(scenario)


@pytest.mark.usefixtures("announced_elsewhere")
def test_a_dropped_listener_reconnects_and_catches_up(people: People) -> None:
    application = water_connection(people)

    def terminate(pid: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    async def scenario() -> None:
        stream = await watch(people.ayesha, application.tracking_no)
        await stream.event()
        first_pid = await listening()
        assert first_pid is not None
        # Made on another server, whose NOTIFY this one will never hear: the listener's
        # connection is cut. The listener reconnects and has every stream read once.
        forwarded = await elsewhere(lambda: forward(people, application))
        await elsewhere(lambda: terminate(first_pid))
        assert (await stream.event(timeout=5.0))["id"] == forwarded.pk
        second_pid = await listening()
        assert second_pid not in (None, first_pid)

        # And it hears the other servers again.
        later = await elsewhere(lambda: comment(people, application, "Site visit Monday"))
        await elsewhere(lambda: notify_as_another_server(f"{application.pk}:{later.pk}"))
        assert (await stream.event())["id"] == later.pk
        await stream.close()

    run(scenario)


def test_an_event_committed_after_a_later_one_is_still_sent(people: People) -> None:
    """Ids are taken at insert: a slow transaction commits a lower id after a higher one."""
    application = water_connection(people)
    written, release = threading.Event(), threading.Event()

    def slow_comment() -> Event:
        with transaction.atomic():
            event = comment(people, application, "Written first, committed last")
            written.set()
            release.wait(5)
        return event

    async def scenario() -> None:
        stream = await watch(people.ayesha, application.tracking_no)
        await stream.event()
        slow = asyncio.ensure_future(elsewhere(slow_comment))
        assert await asyncio.to_thread(written.wait, 5)
        quick = await elsewhere(lambda: comment(people, application, "Written last"))
        assert (await stream.event())["id"] == quick.pk
        release.set()
        late = await slow
        assert late.pk < quick.pk
        assert (await stream.event())["id"] == late.pk
        await stream.close()

    run(scenario)
    assert broker.watched() == set()


@pytest.mark.usefixtures("announced_elsewhere")
def test_a_stream_opened_while_listening_is_not_read_again_by_the_first_poll(
    people: People, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thousand streams opened at once cost a thousand reads, not two thousand: the listener
    would have heard of any event after the stream's first read. The poll still wakes the
    stream when its application's events change (here no NOTIFY is sent at all)."""
    first, second = water_connection(people), water_connection(people)
    settings.LIVE_POLL_SECONDS = 0.05
    settings.LIVE_KEEPALIVE_SECONDS = 0.1
    reads: list[int] = []
    read = stream_module.read_messages

    def counted(application: Application, **kwargs: Any) -> list[dict[str, Any]]:
        reads.append(application.pk)
        return read(application, **kwargs)

    monkeypatch.setattr(stream_module, "read_messages", counted)

    async def scenario() -> None:
        opened_first = await watch(people.ayesha, first.tracking_no)
        await opened_first.event()
        await listening()
        stream = await watch(people.ayesha, second.tracking_no)
        await stream.event()
        for _ in range(5):  # while the stream runs: ten polls
            assert (await stream.next()).comment == "keepalive"
        assert reads.count(second.pk) == 1

        forwarded = await elsewhere(lambda: forward(people, second))
        assert (await stream.event())["id"] == forwarded.pk
        assert reads.count(second.pk) == 2
        await stream.close()
        await opened_first.close()

    run(scenario)
