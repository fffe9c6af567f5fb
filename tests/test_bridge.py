"""ocsc.asgi's bridge: every request but live streams runs on Django's WSGI handler in a
thread pool; these drive the app servers' ASGI application as uvicorn does."""

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest
from django.conf import settings
from django.core.signals import request_finished
from django.core.wsgi import get_wsgi_application
from django.test import Client

from ocsc.accounts.actions import issue_token
from ocsc.bridge import MEMORY_BODY, Bridge, Message, Receive, Scope, Send, environ
from ocsc.handlers import is_bearer_call
from tests.personas import PDF, People, upload, water_connection

Answer = tuple[int, dict[str, list[str]], bytes, list[Message]]


def scope(
    method: str, path: str, headers: Sequence[tuple[str, str]] = (), query: str = ""
) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": ("10.1.2.3", 50000),
        "server": ("127.0.0.1", 8000),
    }


def call(app: Any, request: Scope, chunks: Sequence[bytes] = (b"",)) -> Answer:
    """One request through the ASGI app; the body arrives in `chunks`."""
    incoming: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)  # no disconnect while the test waits for the answer
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(request, receive, send))
    start = sent[0]
    assert start["type"] == "http.response.start", sent
    headers: dict[str, list[str]] = {}
    for name, value in start["headers"]:
        headers.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert sent[-1].get("more_body", False) is False, "the response was not finished"
    return start["status"], headers, body, sent


@pytest.fixture
def app() -> Bridge:
    from ocsc.asgi import application

    return application


def multipart(boundary: str, content: bytes, name: str = "scan.pdf") -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: application/pdf\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )


@pytest.mark.django_db(transaction=True)
def test_api_calls_run_through_the_bridge(app: Bridge, people: People) -> None:
    """A citizen uploads a document whose body arrives in pieces, without Content-Length
    (as a chunked upload does), spooled to disk past MEMORY_BODY; files an application with
    it as JSON, and reads it back."""
    key = issue_token(people.ayesha, name="bridge")[1]
    auth = ("Authorization", f"Bearer {key}")
    content = PDF + b"%" * (MEMORY_BODY + 1000)  # a comment after %%EOF: still a PDF
    body = multipart("b0undary", content)
    pieces = [body[i : i + 300_000] for i in range(0, len(body), 300_000)]
    status, _, raw, _ = call(
        app,
        scope(
            "POST",
            "/api/v1/uploads",
            [auth, ("Content-Type", "multipart/form-data; boundary=b0undary")],
        ),
        pieces,
    )
    assert status == 201, raw
    uploaded = json.loads(raw)
    assert uploaded["size"] == len(content)

    other = upload(people.ayesha)
    submission = {
        "service": "water-connection",
        "organization": "tma-mardan",
        "jurisdiction": "kp-mardan-mardan-nc-1",
        "data": {"connection_size": "half_inch"},
        "location": {"lat": 34.2, "lng": 72.04, "address": "House 7, Bagh Road"},
        "documents": {"cnic_copy": uploaded["upload_id"], "affidavit": other},
    }
    status, headers, raw, _ = call(
        app,
        scope("POST", "/api/v1/applications", [auth, ("Content-Type", "application/json")]),
        [json.dumps(submission).encode()],
    )
    assert status == 201, raw
    assert headers["content-type"] == ["application/json; charset=utf-8"]
    number = json.loads(raw)["tracking_no"]

    status, _, raw, _ = call(app, scope("GET", "/api/v1/applications", [auth], query="limit=5"))
    assert status == 200
    assert [item["tracking_no"] for item in json.loads(raw)["items"]] == [number]


@pytest.mark.django_db(transaction=True)
def test_a_document_streams_from_its_thread_and_the_request_finishes_there(
    app: Bridge, people: People
) -> None:
    application = water_connection(people)
    document = application.attachments.first()
    assert document is not None
    key = issue_token(people.ayesha, name="bridge")[1]
    finished: list[bool] = []

    def on_finished(**kwargs: Any) -> None:
        import threading

        finished.append(threading.current_thread().name.startswith("ocsc-request"))

    request_finished.connect(on_finished)
    try:
        status, headers, raw, sent = call(
            app,
            scope(
                "GET",
                f"/api/v1/applications/{application.tracking_no}/documents/{document.uuid}",
                [("Authorization", f"Bearer {key}")],
            ),
        )
    finally:
        request_finished.disconnect(on_finished)
    assert status == 200
    assert raw == PDF
    assert headers["content-type"] == ["application/pdf"]
    assert len(sent) >= 3  # start, the file's chunk(s), the end: streamed
    assert finished == [True]  # closed in the pool thread that holds its connection


@pytest.mark.django_db(transaction=True)
def test_pages_keep_every_cookie_and_the_client_address(app: Bridge, mini_catalog: None) -> None:
    status, headers, raw, _ = call(app, scope("GET", "/signin/", [("Accept-Language", "ur")]))
    assert status == 200
    assert b'dir="rtl"' in raw
    assert any(c.startswith("csrftoken=") for c in headers["set-cookie"])


def test_environ_follows_wsgi() -> None:
    """Text is latin-1 of the UTF-8 bytes (PEP 3333), repeated headers are joined, and the
    content headers have no HTTP_ prefix; the length is the body's (a chunked upload has no
    Content-Length header, and Django would read nothing)."""
    body, _ = asyncio.run(_empty_body())
    env = environ(
        scope(
            "POST",
            "/ur/درخواست",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", "2"),
                ("Cookie", "a=1"),
                ("Cookie", "b=2"),
                ("X-Forwarded-For", "1.1.1.1"),
                ("X-Forwarded-For", "2.2.2.2"),
            ],
            query="q=%D8%AC",
        ),
        body,
        2,
    )
    assert env["PATH_INFO"].encode("latin-1").decode("utf-8") == "/ur/درخواست"
    assert env["QUERY_STRING"] == "q=%D8%AC"
    assert env["CONTENT_TYPE"] == "application/json"
    assert env["CONTENT_LENGTH"] == "2"
    assert env["HTTP_COOKIE"] == "a=1; b=2"
    assert env["HTTP_X_FORWARDED_FOR"] == "1.1.1.1,2.2.2.2"
    assert env["REMOTE_ADDR"] == "10.1.2.3"
    assert env["SERVER_PORT"] == "8000"


async def _empty_body() -> Any:
    from ocsc.bridge import read_body

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    return await read_body(receive)


def test_live_streams_and_lifespan_go_to_the_asgi_handler() -> None:
    seen: list[str] = []

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(f"asgi {scope['type']} {scope.get('path', '')}")
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"async"})

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(f"wsgi {environ['PATH_INFO']}")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"sync"]

    bridge = Bridge(asgi=asgi, wsgi=wsgi, threads=2, async_prefixes=("/live/",))
    assert call(bridge, scope("GET", "/live/applications/X-1/events"))[2] == b"async"
    assert call(bridge, scope("GET", "/api/v1/organizations"))[2] == b"sync"
    assert call(bridge, scope("GET", "/livestock"))[2] == b"sync"

    async def lifespan() -> None:
        async def receive() -> Message:
            return {"type": "lifespan.startup"}

        async def send(message: Message) -> None:
            pass

        await bridge({"type": "lifespan"}, receive, send)

    asyncio.run(lifespan())
    assert seen == [
        "asgi http /live/applications/X-1/events",
        "wsgi /api/v1/organizations",
        "wsgi /livestock",
        "asgi lifespan ",
    ]


def test_a_client_gone_before_its_body_arrived_gets_nothing_and_runs_nothing() -> None:
    ran: list[str] = []

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        ran.append(environ["PATH_INFO"])
        return []

    async def unused(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not an async path")

    bridge = Bridge(asgi=unused, wsgi=wsgi, threads=1, async_prefixes=("/live/",))
    messages: list[Message] = [
        {"type": "http.request", "body": b"{", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(bridge(scope("POST", "/api/v1/applications"), receive, send))
    assert (ran, sent) == ([], [])


def test_a_wsgi_error_page_is_still_a_whole_response() -> None:
    """Django's handler turns exceptions into a 500 page; the bridge sends what it gets."""
    handler = get_wsgi_application()

    async def unused(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not an async path")

    bridge = Bridge(asgi=unused, wsgi=handler, threads=1, async_prefixes=("/live/",))
    status, _, _, _ = call(bridge, scope("GET", "/no-such-page/"))
    assert status == 404


@pytest.mark.django_db(transaction=True)
def test_an_apps_call_and_the_portals_call_each_find_their_caller(
    app: Bridge, people: People
) -> None:
    """An app's call (a bearer token, no cookie) runs without the session middleware and
    still answers for its token's owner; a call with the portal's session cookie runs on the
    whole stack, where the session names the caller, and an unsafe one is CSRF-checked."""
    key = issue_token(people.ayesha, name="bridge")[1]
    browser = Client()
    browser.force_login(people.sana)
    session = (
        f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    )

    status, headers, raw, _ = call(
        app, scope("GET", "/api/v1/me", [("Authorization", f"Bearer {key}")])
    )
    assert (status, json.loads(raw)["phone"]) == (200, people.ayesha.phone)
    assert "set-cookie" not in headers

    stale = ("Authorization", "Bearer no-such-token")
    status, _, raw, _ = call(app, scope("GET", "/api/v1/me", [stale, ("Cookie", session)]))
    assert (status, json.loads(raw)["phone"]) == (200, people.sana.phone)
    status, _, raw, _ = call(app, scope("GET", "/api/v1/me", [stale]))
    assert status == 401

    status, _, raw, _ = call(
        app,
        scope("POST", "/api/v1/uploads", [stale, ("Cookie", session)]),
        [multipart("b0undary", PDF)],
    )
    assert status == 403 and b"CSRF" in raw


def test_only_an_api_call_with_a_token_and_no_cookie_skips_the_session() -> None:
    token = {"HTTP_AUTHORIZATION": "Bearer k"}
    assert is_bearer_call({"PATH_INFO": "/api/v1/applications", **token})
    assert not is_bearer_call({"PATH_INFO": "/api/v1/applications", **token, "HTTP_COOKIE": "a=1"})
    assert not is_bearer_call({"PATH_INFO": "/api/v1/applications"})
    assert not is_bearer_call({"PATH_INFO": "/applications/", **token})
    assert not is_bearer_call({"PATH_INFO": "/open311/v2/requests.json", **token})
