"""The lifecycle benchmark's core against the real app served on loopback: a few users, a few
lifecycles each, counted by the report and found in the database as the calls left them."""

import asyncio
import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from bench.load import (
    KINDS,
    PREFIX,
    Cast,
    CpuMeter,
    Http,
    Options,
    check_url,
    prepare,
    remove,
    run,
    table,
)
from ocsc.accounts.models import ApiToken, User
from ocsc.cases.models import Application, Attachment, Event
from tests.conftest import KP_CATALOG
from tests.serve import serving

LIFECYCLES = 2


def users() -> int:
    """Three users at once; one on SQLite, whose in-memory test database shared with the
    server's threads refuses concurrent writers ("database table is locked")."""
    return 1 if connection.vendor == "sqlite" else 3


@pytest.fixture
def cast(transactional_db: None) -> Cast:
    call_command("load_catalog", str(KP_CATALOG), verbosity=0)
    return prepare(citizens=3, organizations=["wssc-mardan", "wssp"], resolvers=2)


@pytest.fixture
def server(cast: Cast, settings: Any) -> Iterator[str]:
    with serving(settings) as url:
        yield url


@pytest.mark.parametrize("documents", ["uploads", "form"])
def test_lifecycles_complete_and_the_report_counts_every_call(
    cast: Cast, server: str, documents: str
) -> None:
    count = users()
    options = Options(
        url=server,
        users=count,
        duration=60,
        warmup=0,
        lifecycles=LIFECYCLES,
        documents=documents,
    )
    report = asyncio.run(run(options, cast))

    done = count * LIFECYCLES
    uploads = 2 if documents == "uploads" else 0  # or sent with the complaint
    assert report.errors == [], report.error_samples
    assert report.lifecycles == report.lifecycle_ms["count"] == done
    calls = {kind: int(stats["count"]) for kind, stats in report.calls.items()}
    assert calls == {kind: done * (uploads if kind == "upload" else 1) for kind in KINDS}
    assert report.lifecycles_per_second > 0
    made_calls = [s for s in report.calls.values() if s["count"]]
    assert all(0 < s["p50"] <= s["p95"] <= s["p99"] <= s["max"] for s in made_calls)
    assert json.loads(json.dumps(report.calls, allow_nan=False)) == report.calls  # valid JSON
    printed = "\n".join(table(report))
    assert ("upload" in printed) == (documents == "uploads") and "nan" not in printed

    made = Application.objects.filter(tracking_no__in=report.applications)
    assert made.count() == len(set(report.applications)) == done
    assert {(a.state, a.category, a.outcome) for a in made} == {
        ("resolved", "closed_ok", "resolved")
    }
    offices = {cast.offices[user % len(cast.offices)].organization for user in range(count)}
    assert set(made.values_list("organization__code", flat=True)) == offices
    assert all(a.citizen.phone.startswith(PREFIX) for a in made)
    kinds = list(
        Event.objects.filter(application__in=made)
        .order_by("application_id", "pk")
        .values_list("kind", "actor_role", "action")
    )
    assert (
        kinds
        == [
            ("application.submitted", "citizen", ""),
            ("step.action", "zonal_manager", "forward"),
            ("step.assigned", "zonal_manager", ""),
            ("step.action", "manager_billing", "resolve"),
        ]
        * done
    )
    attached = Attachment.objects.filter(application__in=made)
    assert sorted(attached.values_list("requirement", flat=True)) == sorted(
        ["cnic_copy", "last_bill"] * done
    )
    assert Attachment.objects.count() == attached.count()  # none left unbound

    removed = remove(people=True)
    assert removed["applications"] == done
    assert not User.objects.filter(phone__startswith=PREFIX).exists()
    assert not ApiToken.objects.exists()


def test_the_benchmark_sends_nothing_beyond_loopback() -> None:
    assert check_url("http://127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert check_url("http://localhost:81/") == ("localhost", 81)
    for url in ("http://10.0.0.5:8000", "http://example.org", "https://127.0.0.1", "127.0.0.1"):
        with pytest.raises(ValueError, match="loopback|http"):
            check_url(url)


def test_the_cpu_meter_counts_as_server_other_processes_not_itself_or_its_starters() -> None:
    # The benchmark's own command line (and its shell's) holds `--server-match TEXT`.
    others = subprocess.Popen(  # noqa: S603 - a sleeping python whose command line matches
        [sys.executable, "-c", "import time; time.sleep(30)  # ocsc-meter-test"]
    )
    try:
        time.sleep(0.2)
        roots = CpuMeter(None, server_match="ocsc-meter-test")._roots()
        assert roots["server"] == {others.pid}
        everything = CpuMeter(None, server_match="python")._roots()["server"]
        assert os.getpid() not in everything and os.getppid() not in everything
    finally:
        others.kill()
        others.wait()


def test_the_client_reads_lengths_chunks_and_gzip_and_reconnects_after_a_close() -> None:
    """The benchmark's own HTTP client: an answer by its length, in chunks or gzipped, on one
    kept connection; after the server says `Connection: close`, the next call opens a new one."""
    answers = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\n[1,\r\n2;x=y\r\n2]\r\n0\r\n\r\n",
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\nno!",
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Encoding: gzip\r\n\r\n%s"
        % (len(gzip.compress(b"true")), gzip.compress(b"true")),
    ]
    seen: list[tuple[int, bytes]] = []
    gzip_accepted: list[bool] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = len({c for c, _ in seen})
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:  # the client closed it
                return
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            gzip_accepted.append(b"\r\nAccept-Encoding: gzip\r\n" in head)
            seen.append((connection, head.split(b"\r\n")[0] + await reader.readexactly(length)))
            answer = answers[len(seen) - 1]
            writer.write(answer)
            if b"Connection: close" in answer:
                writer.close()
                return

    async def calls() -> list[tuple[int, bytes]]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        http = Http("127.0.0.1", server.sockets[0].getsockname()[1])
        try:
            return [
                await http.request("POST", "/a", [("X", "1")], b"ab"),
                await http.request("POST", "/b", (), b""),
                await http.request("PUT", "/c", (), b"x"),
                await http.request("POST", "/d", (), b"yz"),
            ]
        finally:
            http.close()
            server.close()

    assert asyncio.run(calls()) == [(200, b"{}"), (201, b"[1,2]"), (404, b"no!"), (200, b"true")]
    assert seen == [
        (0, b"POST /a HTTP/1.1ab"),
        (0, b"POST /b HTTP/1.1"),
        (0, b"PUT /c HTTP/1.1x"),
        (1, b"POST /d HTTP/1.1yz"),
    ]
    assert gzip_accepted == [True] * 4
