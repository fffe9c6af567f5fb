"""SMS gateways for tests: one that records, one that fails until told otherwise, and a fake
aggregator answering HTTP on loopback."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs


class FlakyGateway:
    """Fails while `down`, records what it sends."""

    name = "flaky"
    down: ClassVar[bool] = True
    sent: ClassVar[list[tuple[str, str, str]]] = []

    def send(self, phone: str, text: str, *, reference: str = "") -> str:
        if FlakyGateway.down:
            raise ConnectionError("the aggregator is down")
        FlakyGateway.sent.append((phone, text, reference))
        return f"ok-{len(FlakyGateway.sent)}"


@dataclass
class FakeAggregator:
    """An SMS aggregator's HTTP API on loopback: records every request; delivers a message
    once per reference (as aggregators that take a client reference do); can hold the n-th
    request unanswered, as a slow network would, until released."""

    requests: list[dict[str, str]] = field(default_factory=list)
    delivered: dict[str, dict[str, str]] = field(default_factory=dict)
    hold_request: int | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def receive(self, fields: dict[str, str]) -> bool:
        """Record a request; True if its message is new (delivered now)."""
        with self.lock:
            self.requests.append(fields)
            number = len(self.requests)
            new = fields.get("reference", "") not in self.delivered
            if new:
                self.delivered[fields.get("reference", "")] = fields
        if number == self.hold_request:
            self.holding.set()
            self.release.wait(timeout=30)
        return new


@contextmanager
def fake_aggregator(**options: object) -> Iterator[FakeAggregator]:
    aggregator = FakeAggregator(**options)  # type: ignore[arg-type]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            fields = {name: values[0] for name, values in form.items()}
            fields["authorization"] = self.headers.get("Authorization", "")
            new = aggregator.receive(fields)
            answer = b"ACCEPTED" if new else b"ACCEPTED (duplicate reference, not sent again)"
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    aggregator.url = f"http://127.0.0.1:{server.server_port}/send"
    try:
        yield aggregator
    finally:
        aggregator.release.set()
        server.shutdown()
        server.server_close()
