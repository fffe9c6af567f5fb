"""The live stream of an application: what each person receives, when, and from where."""

import asyncio
import gc
import threading
import weakref
from collections.abc import Mapping
from typing import Any

import pytest
from django.core.asgi import get_asgi_application
from django.db import connections
from django.test import AsyncClient

from ocsc.accounts.actions import issue_token
from ocsc.accounts.models import User
from ocsc.cases import actions
from ocsc.cases.actions import add_comment, take_action
from ocsc.cases.models import Application, Event
from ocsc.live import broker as broker_module
from ocsc.live import stream as stream_module
from ocsc.live.broker import broker
from tests.live.sse import Stream, client_for, elsewhere, listening, run, url, watch
from tests.personas import People, water_connection

pytestmark = pytest.mark.django_db(transaction=True)


def reread(application: Application) -> Application:
    return Application.objects.select_related(
        "current_step", "organization", "service", "jurisdiction"
    ).get(pk=application.pk)


def forward(people: People, application: Application) -> Event:
    return take_action(reread(application), actor=people.kamran, action="forward")


def note(people: People, application: Application, text: str, *, internal: bool) -> Event:
    return add_comment(reread(application), actor=people.kamran, text=text, internal=internal)


def test_the_applicant_gets_the_timeline_then_each_new_event_as_it_commits(
    people: People,
) -> None:
    application = water_connection(people)
    submitted = Event.objects.get(application=application)

    async def scenario() -> None:
        stream = await watch(people.ayesha, application.tracking_no)
        assert stream.response["Content-Type"] == "text/event-stream"
        assert stream.response["Cache-Control"] == "no-cache"
        assert stream.response["X-Accel-Buffering"] == "no"
        assert (await stream.next()).retry == 2000
        first = await stream.event()
        assert first == {
            "id": submitted.pk,
            "kind": "application.submitted",
            "actor": "Ayesha Khan",
            "actor_role": "citizen",
            "state": "scrutiny",
            "from_state": "",
            "to_state": "scrutiny",
            "action": "",
            "text": "",
            "visibility": "public",
            "data": submitted.data,
            "created_at": submitted.created_at.isoformat(),
            "application": {"state": "scrutiny", "category": "open"},
        }

        # The clerk acts in another thread (another request); the stream is woken in-process.
        forwarded = await elsewhere(lambda: forward(people, application))
        live = await stream.event(timeout=1.0)
        assert live["id"] == forwarded.pk
        assert live["kind"] == "step.action"
        assert live["actor"] == "Kamran Ali"
        assert live["actor_role"] == "clerk"
        assert (live["state"], live["from_state"], live["to_state"], live["action"]) == (
            "scrutiny",
            "scrutiny",
            "site_inspection",
            "forward",
        )
        assert live["application"] == {"state": "site_inspection", "category": "open"}
        await stream.close()

    run(scenario)


def test_internal_notes_reach_the_clerk_and_never_the_applicant(people: People) -> None:
    application = water_connection(people)
    early = note(people, application, "Old connection file missing", internal=True)

    async def scenario() -> None:
        citizen = await watch(people.ayesha, application.tracking_no)
        clerk = await watch(people.kamran, application.tracking_no)
        assert [e["kind"] for e in await citizen.events(1)] == ["application.submitted"]
        assert [e["id"] for e in await clerk.events(2)][1] == early.pk

        internal = await elsewhere(lambda: note(people, application, "Call SDO", internal=True))
        public = await elsewhere(lambda: note(people, application, "Visit Monday", internal=False))

        # The applicant's next message is the public comment: the note in between is skipped.
        seen = await citizen.event()
        assert (seen["id"], seen["text"], seen["visibility"]) == (
            public.pk,
            "Visit Monday",
            "public",
        )
        got = await clerk.events(2)
        assert [(e["id"], e["visibility"]) for e in got] == [
            (internal.pk, "internal"),
            (public.pk, "public"),
        ]
        assert got[0]["text"] == "Call SDO"
        await citizen.close()
        await clerk.close()

    run(scenario)


def test_resuming_sends_only_the_events_after_the_last_one_received(people: People) -> None:
    application = water_connection(people)
    first = Event.objects.get(application=application)
    second = note(people, application, "Documents received", internal=False)
    third = forward(people, application)

    async def scenario() -> None:
        resumed = await watch(
            people.ayesha, application.tracking_no, **{"Last-Event-ID": str(first.pk)}
        )
        assert [e["id"] for e in await resumed.events(2)] == [second.pk, third.pk]
        fourth = await elsewhere(
            lambda: note(people, application, "Site visit booked", internal=False)
        )
        assert (await resumed.event())["id"] == fourth.pk
        await resumed.close()

        # `?after=` for a first connection that already has part of the timeline.
        client = AsyncClient()
        await client.aforce_login(people.ayesha)
        after = Stream(await client.get(url(application.tracking_no), {"after": second.pk}))
        assert [e["id"] for e in await after.events(2)] == [third.pk, fourth.pk]
        await after.close()

    run(scenario)


@pytest.mark.django_db  # refused before any database work
def test_a_malformed_last_event_id_is_refused() -> None:
    async def scenario() -> None:
        for headers in ({"Last-Event-ID": "x1"}, {"Last-Event-ID": "-3"}):
            response = await AsyncClient().get(url("TMA-MDN-26-000001"), headers=headers)
            assert response.status_code == 400
            assert response.json()["code"] == "invalid_input"

    run(scenario)


# Who may watch --------------------------------------------------------------------------


def test_strangers_are_refused_and_others_cannot_tell_a_missing_number(people: People) -> None:
    application = water_connection(people)

    async def status(user: User | None, tracking_no: str, **headers: str) -> dict[str, Any]:
        client = await client_for(user)
        response = await client.get(url(tracking_no), headers=headers)
        if response.status_code == 401:
            assert response["WWW-Authenticate"] == 'Bearer realm="ocsc"'
        return {"status": response.status_code, **response.json()}

    async def scenario() -> None:
        for headers in (
            {},
            {"Authorization": "Bearer not-a-token"},
            {"Authorization": "Basic eA=="},
        ):
            assert await status(None, application.tracking_no, **headers) == {
                "status": 401,
                "detail": "Sign in, or send Authorization: Bearer <token>.",
                "code": "not_signed_in",
            }
        not_found = {"status": 404, "detail": "No such application.", "code": "not_found"}
        assert await status(people.bilal, application.tracking_no) == not_found  # another citizen
        assert await status(people.zeb, application.tracking_no) == not_found  # another TMA
        assert await status(people.ayesha, "TMA-MDN-26-999999") == not_found  # no such number

    run(scenario)


def test_the_monitor_watches_any_application_with_its_internal_notes(people: People) -> None:
    application = water_connection(people)
    internal = note(people, application, "Pipe size unusual", internal=True)

    async def scenario() -> None:
        stream = await watch(people.maryam, application.tracking_no)
        assert [e["id"] for e in await stream.events(2)][1] == internal.pk
        await stream.close()

    run(scenario)


def test_a_bearer_token_opens_the_stream_without_a_session(people: People) -> None:
    application = water_connection(people)
    _, key = issue_token(people.ayesha)

    async def scenario() -> None:
        stream = await watch(None, application.tracking_no, Authorization=f"Bearer {key}")
        assert (await stream.event())["kind"] == "application.submitted"
        await stream.close()

    run(scenario)


# The other wake-up paths and the stream's lifetime -----------------------------------------


def test_events_written_by_another_process_arrive_by_the_poll(
    people: People, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker commits in another process: no signal reaches this one, only the poll."""
    application = water_connection(people)
    settings.LIVE_POLL_SECONDS = 0.05
    monkeypatch.setattr(actions, "announce_on_commit", lambda event_id: None)
    # The in-memory SQLite test database refuses a writer while another connection reads:
    # the write and the poll take turns (on a file database, WAL lets them overlap).
    turns = threading.Lock()
    marks = broker_module.event_marks

    def polled(application_ids: list[int]) -> dict[int, tuple[int, int]]:
        with turns:
            return marks(application_ids)

    monkeypatch.setattr(broker_module, "event_marks", polled)

    def forward_quietly() -> Event:
        with turns:
            return forward(people, application)

    async def scenario() -> None:
        stream = await watch(people.ayesha, application.tracking_no)
        await stream.event()
        forwarded = await elsewhere(forward_quietly)
        assert (await stream.event())["id"] == forwarded.pk
        await stream.close()

    run(scenario)


def test_an_event_between_a_new_streams_first_read_and_the_first_poll_arrives(
    people: People, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written by another process just after the stream's first read: the first poll, which
    finds the application's events for the first time, wakes the stream to read again (on
    SQLite; on PostgreSQL the listener, which starts with the stream, does it too)."""
    application = water_connection(people)
    settings.LIVE_POLL_SECONDS = 0.2
    monkeypatch.setattr(actions, "announce_on_commit", lambda event_id: None)
    slipped: list[Event] = []
    read = stream_module.read_messages

    def read_then_comment(application: Application, **kwargs: Any) -> list[dict[str, Any]]:
        found = read(application, **kwargs)
        if not slipped:
            slipped.append(note(people, application, "In between", internal=False))
        return found

    monkeypatch.setattr(stream_module, "read_messages", read_then_comment)

    async def scenario() -> None:
        stream = await watch(people.ayesha, application.tracking_no)
        assert (await stream.event())["kind"] == "application.submitted"
        assert (await stream.event())["id"] == slipped[0].pk
        await stream.close()

    run(scenario)


def test_a_quiet_stream_keeps_alive_without_queries_and_ends_after_its_time(
    people: People, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    application = water_connection(people)
    settings.LIVE_KEEPALIVE_SECONDS = 0.05
    settings.LIVE_STREAM_SECONDS = 0.5
    reads: list[int] = []
    read = stream_module.read_messages

    def counted(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        reads.append(kwargs["after"])
        return read(*args, **kwargs)

    monkeypatch.setattr(stream_module, "read_messages", counted)

    async def scenario() -> None:
        stream = await watch(people.ayesha, application.tracking_no)
        await stream.event()
        # On PostgreSQL the listener, once it listens, wakes the stream to read once more
        # (it may have missed a notification while connecting).
        pid = await listening()
        rest = await stream.ended()
        assert rest and all(m.comment == "keepalive" for m in rest)
        assert reads == [0] * (1 if pid is None else 2)  # then nothing while idle

    run(scenario)


@pytest.mark.django_db
def test_a_wake_reads_the_new_events_in_one_query(
    people: People, django_assert_num_queries: Any
) -> None:
    application = water_connection(people)
    first = Event.objects.get(application=application)
    note(people, application, "One", internal=False)
    note(people, application, "Two", internal=True)
    forward(people, application)
    with django_assert_num_queries(1):
        found = stream_module.read_messages(
            application, internal=False, after=first.pk, skip=[], limit=50
        )
    assert [m["text"] for m in found] == ["One", ""]
    assert all(m["application"] == {"state": "site_inspection", "category": "open"} for m in found)


def test_an_open_stream_keeps_only_its_applications_id(people: People) -> None:
    """Not the object the access check read, with its service's form and its process spec:
    a thousand open streams would hold a thousand copies."""
    checked, internal = stream_module.watchable(people.ayesha, water_connection(people).tracking_no)
    assert checked.process.spec_json  # what the check read along
    gone = weakref.ref(checked)
    messages = stream_module.events(checked, internal=internal, after=0)
    del checked

    async def scenario() -> None:
        assert (await anext(messages)).startswith("retry:")
        assert "application.submitted" in await anext(messages)
        gc.collect()
        assert gone() is None
        await messages.aclose()

    run(scenario)


def test_streams_read_in_their_loops_reader_threads_which_end_with_the_last_stream(
    people: People, settings: Any
) -> None:
    """Each on a connection of its own, which it closes when it ends: when a poll finds no
    stream left, or when the loop ends."""
    application = water_connection(people)
    settings.LIVE_POLL_SECONDS = 0.05

    def readers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("ocsc-live-")]

    async def scenario() -> None:
        first = await watch(people.ayesha, application.tracking_no)
        second = await watch(people.kamran, application.tracking_no)
        await first.event()
        await second.event()
        assert broker.loop_state().readers is not None
        assert len(readers()) == broker_module.READERS
        await first.close()
        await asyncio.sleep(0.2)  # polls: the other stream still reads on them
        assert len(readers()) == broker_module.READERS
        forwarded = await elsewhere(lambda: forward(people, application))
        assert (await second.event())["id"] == forwarded.pk
        await second.close()

    run(scenario)
    for thread in readers():
        thread.join(timeout=2)
    assert readers() == []


def test_a_reader_connects_outside_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream's read must not wait behind the requests that hold the pool's connections."""
    default = connections["default"]
    options = {**default.settings_dict.get("OPTIONS", {}), "pool": {"max_size": 4}}
    monkeypatch.setitem(default.settings_dict, "OPTIONS", options)
    own = broker_module.own_connection()
    assert own is not default
    assert "pool" not in own.settings_dict["OPTIONS"]
    assert own.settings_dict["NAME"] == default.settings_dict["NAME"]
    assert own.connection is None  # connects at its first query


def test_a_client_that_goes_away_releases_its_stream(people: People) -> None:
    """Through the ASGI application, as uvicorn serves it: headers, then messages as they
    come; when the client disconnects the stream stops watching."""
    application = water_connection(people)
    _, key = issue_token(people.ayesha)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": url(application.tracking_no),
        "raw_path": url(application.tracking_no).encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {key}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def scenario() -> None:
        incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        outgoing: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue()
        await incoming.put({"type": "http.request", "body": b"", "more_body": False})
        served = asyncio.ensure_future(get_asgi_application()(scope, incoming.get, outgoing.put))

        start = await asyncio.wait_for(outgoing.get(), 2)
        assert start["status"] == 200
        headers = {name.lower(): value for name, value in start["headers"]}
        assert headers[b"content-type"] == b"text/event-stream"
        assert headers[b"cache-control"] == b"no-cache"
        body = b""
        while b"application.submitted" not in body:
            body += (await asyncio.wait_for(outgoing.get(), 1))["body"]
        assert broker.watched() == {application.pk}

        await incoming.put({"type": "http.disconnect"})
        await asyncio.wait_for(served, 2)
        assert broker.watched() == set()

    run(scenario)


def test_a_long_timeline_comes_in_batches_in_order(
    people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    application = water_connection(people)
    for n in range(6):
        note(people, application, f"Note {n}", internal=n % 2 == 1)
    monkeypatch.setattr(stream_module, "BATCH", 2)
    monkeypatch.setattr(stream_module, "RECENT_KEPT", 3)
    expected = list(
        Event.objects.filter(application=application, visibility="public").values_list(
            "pk", flat=True
        )
    )

    async def scenario() -> None:
        stream = await watch(people.ayesha, application.tracking_no)
        assert [e["id"] for e in await stream.events(len(expected))] == expected
        later = await elsewhere(lambda: note(people, application, "Later", internal=False))
        assert (await stream.event())["id"] == later.pk
        await stream.close()

    run(scenario)
