"""One ASGI application for the whole site, with two ways in (docs/deploy.md, "App servers").

Live streams (`/live/`) are async views: they go to Django's ASGI handler, where thousands
of them wait on one event loop. Every other request is a short synchronous one (a page, an
API call, a file): it goes to Django's WSGI handler, run whole on a fixed pool of threads.

Django's ASGI handler would serve those too, but at a cost measured at about two thirds of
the app server's CPU under the lifecycle benchmark (bench/README.md): a new thread for each
request, and a hop between the event loop and that thread for every synchronous middleware
and for the view. Here a request costs one hop: the body is read on the loop, the thread
runs the middleware and the view and renders the response, and the loop sends it. A
streamed response (a document's file) is sent chunk by chunk from its thread, which then
closes the response there, so that Django returns the thread's database connection.

The pool has `APP_THREADS` threads (default: the database pool's size, so that no request
waits for a connection while holding a thread; 8 without a pool). Requests beyond that
wait on the loop for a free thread, not for a connection with a thread each.
"""

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from tempfile import SpooledTemporaryFile
from typing import IO, Any, cast

Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Coroutine[Any, Any, None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# A body larger than this is spooled to a temporary file while it arrives, as Django's ASGI
# handler does (a document upload is up to 10 MB).
MEMORY_BODY = 1024 * 1024


class Disconnected(Exception):
    """The client went away before its request's body arrived."""


async def read_body(receive: Receive) -> tuple[IO[bytes], int]:
    """The whole request body, in memory or (when large) in a temporary file, and its size."""
    body: IO[bytes] = BytesIO()
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            body.close()
            raise Disconnected
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > MEMORY_BODY and isinstance(body, BytesIO):
                spooled = cast(IO[bytes], SpooledTemporaryFile(max_size=0, mode="w+b"))  # noqa: SIM115 - the caller closes it
                spooled.write(body.getvalue())
                body = spooled
            body.write(chunk)
        if not message.get("more_body", False):
            break
    body.seek(0)
    return body, size


def environ(scope: Scope, body: IO[bytes], size: int) -> dict[str, Any]:
    """The WSGI environment of an ASGI HTTP request (PEP 3333: text is latin-1). The body
    has been read: CONTENT_LENGTH is its size, also when it came chunked, without one."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    script_name = scope.get("root_path", "")
    path = scope["path"]
    if script_name and path.startswith(script_name):
        path = path[len(script_name) :]
    env: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script_name.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if client:
        env["REMOTE_ADDR"] = str(client[0])
        env["REMOTE_PORT"] = str(client[1])
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + name
        if key in env:
            value = env[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        env[key] = value
    env["CONTENT_LENGTH"] = str(size)
    return env


class Started:
    """What the WSGI application passed to start_response."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []

    def __call__(
        self, status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> Callable[[bytes], object]:
        self.status = int(status.split(" ", 1)[0])
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        return self._write

    def message(self) -> Message:
        return {"type": "http.response.start", "status": self.status, "headers": self.headers}

    def _write(self, data: bytes) -> object:
        raise NotImplementedError("OCSC's bridge does not support WSGI's write()")


class Bridge:
    """ASGI: `/live/` (and lifespan) to `asgi`, every other HTTP request to `wsgi` on
    `threads` threads."""

    def __init__(
        self, *, asgi: ASGIApp, wsgi: WSGIApp, threads: int, async_prefixes: tuple[str, ...]
    ) -> None:
        self.asgi = asgi
        self.wsgi = wsgi
        self.async_prefixes = async_prefixes
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ocsc-request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.async_prefixes):
            await self.asgi(scope, receive, send)
            return
        try:
            body, size = await read_body(receive)
        except Disconnected:
            return
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(
                self.pool, self._respond, environ(scope, body, size), loop, send
            )
        finally:
            body.close()
        if answer is not None:  # a whole response, made in the thread: send it from here
            started, content = answer
            await send(started.message())
            await send({"type": "http.response.body", "body": content})

    def _respond(
        self, env: dict[str, Any], loop: asyncio.AbstractEventLoop, send: Send
    ) -> tuple[Started, bytes] | None:
        """In a pool thread: run the request. A whole response comes back to the loop to be
        sent; a streamed one is sent from here, chunk by chunk, and None comes back."""
        started = Started()
        result = self.wsgi(env, started)
        try:
            if not getattr(result, "streaming", False):
                return started, b"".join(result)

            def relay(message: Message) -> None:
                asyncio.run_coroutine_threadsafe(send(message), loop).result()

            relay(started.message())
            for chunk in result:
                if chunk:
                    relay({"type": "http.response.body", "body": chunk, "more_body": True})
            relay({"type": "http.response.body", "body": b""})
            return None
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # Django's request_finished: the connection goes back to the pool
