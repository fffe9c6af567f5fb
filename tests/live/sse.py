"""Reading Server-Sent Events streams in tests, and running async scenarios from plain tests."""

import asyncio
import json
from collections.abc import AsyncGenerator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, cast

from asgiref.sync import async_to_sync
from django.db import connections
from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.test import AsyncClient

from ocsc.accounts.models import User

# How long a test waits for a message that should come. Generous for a loaded CI machine: the
# tests prove which path delivers an event (the poll is off unless a test turns it on), not
# how fast; the one-second bound of the design is asserted where it matters.
WAIT = 3.0


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run an async scenario on a fresh event loop (no pytest-asyncio needed)."""
    async_to_sync(scenario)()


async def elsewhere[T](work: Callable[[], T]) -> T:
    """Run `work` in another thread on its own database connection, as another request (or,
    with the announcement switched off, another process) would."""

    def in_thread() -> T:
        try:
            return work()
        finally:
            connections.close_all()

    return await asyncio.to_thread(in_thread)


@dataclass
class Message:
    id: int | None = None
    event: str | None = None
    data: dict[str, Any] | None = None
    retry: int | None = None
    comment: str | None = None


def parse(block: str) -> Message:
    message = Message()
    for line in block.split("\n"):
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "":
            message.comment = value
        elif field == "id":
            message.id = int(value)
        elif field == "event":
            message.event = value
        elif field == "data":
            message.data = json.loads(value)
        elif field == "retry":
            message.retry = int(value)
    return message


class Stream:
    """An open event stream, read message by message, each within a time bound."""

    def __init__(self, response: HttpResponseBase) -> None:
        assert isinstance(response, StreamingHttpResponse), response
        assert response.status_code == 200
        self.response = response
        self._chunks = cast(AsyncGenerator[bytes], response.streaming_content)
        self._buffer = ""

    async def _next(self) -> Message:
        while "\n\n" not in self._buffer:
            self._buffer += (await anext(self._chunks)).decode()
        block, _, self._buffer = self._buffer.partition("\n\n")
        return parse(block)

    async def next(self, timeout: float = WAIT) -> Message:
        return await asyncio.wait_for(self._next(), timeout)

    async def event(self, timeout: float = WAIT) -> dict[str, Any]:
        """The next timeline message's data, passing over `retry` and comments."""
        while True:
            message = await self.next(timeout)
            if message.event is not None:
                assert message.event == "timeline"
                assert message.data is not None and message.id == message.data["id"]
                return message.data

    async def events(self, count: int, timeout: float = WAIT) -> list[dict[str, Any]]:
        return [await self.event(timeout) for _ in range(count)]

    async def ended(self, timeout: float = WAIT) -> list[Message]:
        """The messages left until the server ends the stream."""
        left: list[Message] = []
        try:
            while True:
                left.append(await self.next(timeout))
        except StopAsyncIteration:
            return left

    async def close(self) -> None:
        await self._chunks.aclose()


def url(tracking_no: str) -> str:
    return f"/live/applications/{tracking_no}"


async def client_for(user: User | None) -> AsyncClient:
    client = AsyncClient()
    if user is not None:
        await client.aforce_login(user)
    return client


async def watch(user: User | None, tracking_no: str, **headers: str) -> Stream:
    client = await client_for(user)
    return Stream(await client.get(url(tracking_no), headers=headers))


async def listening(timeout: float = 2.0) -> int | None:
    """On PostgreSQL, wait until this event loop's listener listens: its backend pid."""
    from ocsc.live.broker import broker, uses_notify

    if not uses_notify():
        return None
    state = broker.loop_state()
    await asyncio.wait_for(state.listening.wait(), timeout)
    return state.backend_pid
