"""The production profile's pieces as separate processes, started with deploy/cluster.py's
own functions, on the test database: app servers (uvicorn) on free loopback ports, and nginx
in front of them. Data the tests make is committed (transactional tests), so the servers
see it."""

import http.client
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from deploy import cluster

# How long a test waits for what should come: generous for a loaded machine.
WAIT = 5.0


def database_url_of_tests() -> str:
    """A DATABASE_URL for the pytest-django test database (what the servers must use)."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(db['NAME'], safe='')}"


@dataclass
class Server:
    child: cluster.Child
    port: int

    @property
    def address(self) -> tuple[str, int]:
        return (cluster.HOST, self.port)


@dataclass
class Profile:
    """App servers and nginx, started when a test first asks for them and kept for the next
    tests (a test that stops one gets a new one in the next test)."""

    plan: cluster.Plan
    env: dict[str, str]
    running: dict[int, cluster.Child] = field(default_factory=dict)  # by port

    def app_servers(self, count: int) -> list[Server]:
        ports = self.plan.app_ports[:count]
        for number, port in enumerate(ports, start=1):
            child = self.running.get(port)
            if child is None or not child.running():
                log = self.plan.var / "logs" / f"app-{number}.log"
                self.running[port] = cluster.start_app_server(port, self.env, log=log)
                # nginx leaves a server that failed alone for fail_timeout (10 s): a new nginx
                # for the next test, which must see both servers take requests.
                nginx = self.running.pop(self.plan.port, None)
                if nginx is not None:
                    nginx.stop(timeout=5)
        for port in ports:
            cluster.wait_listening(self.running[port], port)
        return [Server(self.running[port], port) for port in ports]

    def nginx(self) -> Server:
        port = self.plan.port
        child = self.running.get(port)
        if child is None or not child.running():
            child = self.running[port] = cluster.start_nginx(self.plan)
        cluster.wait_listening(child, port, timeout=10)
        return Server(child, port)

    def access_log(self) -> Path:
        return self.plan.var / "logs" / "nginx-access.log"

    def stop(self) -> None:
        for child in self.running.values():
            child.signal(child.stop_signal)
        for child in self.running.values():
            child.stop(timeout=5)


@pytest.fixture(scope="package")  # stopped when tests/deploy is done
def started_profile(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Profile]:
    tmp_path = tmp_path_factory.mktemp("profile")
    plan = cluster.Plan(
        database_url=database_url_of_tests(),
        port=cluster.free_port(),
        app_ports=(cluster.free_port(), cluster.free_port()),
        var=tmp_path / "cluster",
        static_root=tmp_path / "static",
        live_stream_seconds=30,
    )
    env = cluster.app_env(plan, os.environ)
    env.update(
        DEBUG="0",  # as in production
        SECRET_KEY="deploy-tests-" + "k" * 40,
        DATA_DIR=str(tmp_path),
        MEDIA_ROOT=str(tmp_path / "media"),
        # The poll is a safety net; with it this slow, only LISTEN/NOTIFY wakes a stream in
        # time.
        LIVE_POLL_SECONDS="60",
        LIVE_STREAM_SECONDS="30",
        LOG_LEVEL="WARNING",
    )
    profile = Profile(plan, env)
    try:
        yield profile
    finally:
        profile.stop()


@pytest.fixture
def profile(started_profile: Profile, transactional_db: None) -> Profile:
    """The production profile's processes, sharing this test's (committed) data."""
    return started_profile


def post_json(
    address: tuple[str, int], path: str, token: str, body: dict[str, Any]
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection(*address, timeout=WAIT)
    try:
        conn.request(
            "POST",
            path,
            json.dumps(body),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


class EventStream:
    """A live stream (`GET /live/applications/{tracking_no}`) read over a real socket."""

    def __init__(self, address: tuple[str, int], tracking_no: str, token: str) -> None:
        self.conn = http.client.HTTPConnection(*address, timeout=WAIT)
        self.conn.request(
            "GET",
            f"/live/applications/{tracking_no}",
            headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        )
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.read()
        assert self.response.getheader("Content-Type", "").startswith("text/event-stream")

    def event(self, timeout: float = WAIT) -> dict[str, Any]:
        """The next timeline message's data, passing over `retry:` and keepalives."""
        deadline = time.monotonic() + timeout
        data: dict[str, Any] | None = None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no timeline message within {timeout} s")
            assert self.conn.sock is not None
            self.conn.sock.settimeout(left)
            line = self.response.readline().decode()
            if line == "":
                raise EOFError("the server ended the stream")
            if line.startswith("data:"):
                data = json.loads(line.removeprefix("data:").strip())
            elif line == "\n" and data is not None:
                return data

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def event_stream() -> Iterator[Callable[[tuple[str, int], str, str], EventStream]]:
    opened: list[EventStream] = []

    def open_stream(address: tuple[str, int], tracking_no: str, token: str) -> EventStream:
        opened.append(EventStream(address, tracking_no, token))
        return opened[-1]

    yield open_stream
    for stream in opened:
        stream.close()
