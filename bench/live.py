"""Live updates at scale: N Server-Sent Events watchers on one app server, events made through
another, and how long each event takes to reach its watcher (docs/live.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ocsc_bench_100k \\
        DEBUG=1 .venv/bin/python -m bench.live --watchers 1000
    DATABASE_URL=… DEBUG=1 .venv/bin/python -m bench.live --cleanup

Setup (not timed): N bench citizens (phones +92306NNNNNNN), each with one application (filed
through `ocsc.cases.actions`) and a fresh API token. Then, against two uvicorn processes on
loopback started here (or `--watch-url` / `--action-url` of running ones): every citizen
watches their application on the first server; comments are posted at a steady rate through
the API of the second (`--via other`: the wake-up goes through PostgreSQL LISTEN/NOTIFY), of
the first (`--via same`: in-process) or alternately (`--via both`). For each comment the time
it reached its watcher is taken against the event's `created_at` (set just before the
transaction commits: an upper bound of commit → watcher) and against the arrival of the
API's response (after the commit: a lower bound). Also: the time to connect everyone, the
watch server's memory per watcher (VmRSS before and after), its CPU while the watchers idle,
and the database transactions per second the idle watchers cause (pg_stat_database).
"""

import argparse
import asyncio
import itertools
import json
import math
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench import setup_django

# Bench citizens' numbers: +92306 and seven digits (the generator uses +92309 and +92308).
PHONE_PREFIX = "+92306"
TOKEN_NAME = "bench-live"  # noqa: S105 - a token's label
# The service filed when none is given: a complaint, with no document required.
DEFAULT_SERVICE = ("wssc-mardan", "wssc-garbage-complaint")
BASE_DIR = Path(__file__).resolve().parent.parent


# Setup and cleanup: through the ORM and the actions, in this process --------------------------


@dataclass(frozen=True)
class Watcher:
    tracking_no: str
    key: str  # the citizen's bearer token


def _form(fields: Sequence[dict[str, Any]], phone: str) -> dict[str, Any]:
    """A value for every required field of a service's form."""
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    data: dict[str, Any] = {}
    for spec in fields:
        if not spec.get("required"):
            continue
        kind, key = spec.get("type", "text"), spec["key"]
        choices = [choice["value"] for choice in spec.get("choices", ())]
        data[key] = {
            "location": {"lat": 34.2, "lng": 72.04, "address": "Bench street"},
            "choice": choices[0] if choices else "",
            "multi_choice": choices[:1],
            "number": str(spec.get("min") or 1),
            "date": today,
            "phone": phone,
            "cnic": "17301-1234567-1",
        }.get(kind, "Benchmark of live updates")
    return data


def setup(count: int, *, service: tuple[str, str] = DEFAULT_SERVICE) -> list[Watcher]:
    """`count` bench citizens, each with an open application of `service` (org, code) and a
    new API token (the previous bench tokens are deleted). Reuses what an earlier run made."""
    from django.db import transaction

    from ocsc.accounts.actions import issue_token
    from ocsc.accounts.models import ApiToken, User
    from ocsc.cases.actions import submit_application
    from ocsc.cases.models import Application
    from ocsc.catalog.models import Service

    offered = Service.objects.select_related("organization").get(
        organization__code=service[0], code=service[1]
    )
    jurisdiction = offered.organization.serves.order_by("path").first()
    if jurisdiction is None:
        raise RuntimeError(f"{service[0]} serves no jurisdiction")
    ApiToken.objects.filter(user__phone__startswith=PHONE_PREFIX).delete()
    watchers: list[Watcher] = []
    for number in range(1, count + 1):
        phone = f"{PHONE_PREFIX}{number:07d}"
        with transaction.atomic():
            citizen = User.objects.filter(phone=phone).first() or User.objects.create_user(
                phone, name=f"Bench watcher {number}"
            )
            application = (
                Application.objects.filter(citizen=citizen, service=offered).order_by("pk").first()
            )
            if application is None:
                application = submit_application(
                    citizen=citizen,
                    service=offered,
                    jurisdiction=jurisdiction,
                    data=_form(offered.fields, phone),
                    channel="api",
                )
            _, key = issue_token(citizen, name=TOKEN_NAME)
        watchers.append(Watcher(application.tracking_no, key))
    return watchers


def cleanup() -> dict[str, int]:
    """Delete the bench citizens, their applications (steps, events, notifications, …), the
    task rows of those events and notifications, and set the tracking counters back."""
    from django.db import connection, transaction
    from django_tasks_db.models import DBTaskResult

    from bench import writer
    from ocsc.accounts.models import User
    from ocsc.cases.models import Application, Event, TrackingCounter
    from ocsc.notify.models import Notification

    quote = connection.ops.quote_name
    users = quote(User._meta.db_table)

    def delete_tasks(task_path: str, ids: list[int]) -> int:
        return sum(
            DBTaskResult.objects.filter(
                task_path=task_path, args_kwargs__args__0__in=ids[start : start + 1000]
            ).delete()[0]
            for start in range(0, len(ids), 1000)
        )

    mine = {"application__citizen__phone__startswith": PHONE_PREFIX}
    with transaction.atomic():
        tasks = delete_tasks(
            "ocsc.notify.tasks.dispatch",
            list(Event.objects.filter(**mine).values_list("pk", flat=True)),
        ) + delete_tasks(
            "ocsc.notify.tasks.deliver_notification",
            list(Notification.objects.filter(**mine).values_list("pk", flat=True)),
        )
        counters = set(
            Application.objects.filter(citizen__phone__startswith=PHONE_PREFIX).values_list(
                "organization_id", "tracking_no"
            )
        )
        applications = writer.purge(
            Application,
            f"{quote('citizen_id')} IN (SELECT {quote('id')} FROM {users} "  # noqa: S608
            f"WHERE {quote('phone')} LIKE %s)",
            [f"{PHONE_PREFIX}%"],
        )
        people = writer.purge(User, f"{quote('phone')} LIKE %s", [f"{PHONE_PREFIX}%"])
        for organization_id, year in {(o, int(t.rsplit("-", 2)[1])) for o, t in counters}:
            numbers = [
                int(t.rsplit("-", 1)[1])
                for t in Application.objects.filter(
                    organization_id=organization_id, tracking_no__contains=f"-{year:02d}-"
                ).values_list("tracking_no", flat=True)
                if int(t.rsplit("-", 2)[1]) == year
            ]
            TrackingCounter.objects.filter(organization_id=organization_id, year=year).update(
                last=max(numbers, default=0)
            )
    return {"applications": applications, "people": people, "tasks": tasks}


# The servers and what they cost -----------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """Resident memory of a process (VmRSS, KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raise_open_files() -> int:
    """Raise this process's open-files limit (and so its children's) to the hard limit: each
    watcher is a socket in the client and one in the server. Returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A uvicorn process on loopback: one process (no --workers), so its pid is the server's."""

    url: str
    pid: int
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, port: int, env: dict[str, str], log_dir: Path) -> "Server":
        log = log_dir / f"uvicorn-{port}.log"
        command = [
            sys.executable, "-m", "uvicorn", "ocsc.asgi:application",
            "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--log-level", "warning", "--lifespan", "off",
            "--backlog", "4096",  # 1,000 watchers connect at once
        ]  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        server = cls(f"http://127.0.0.1:{port}", process.pid, process, log)
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server on port {port} exited: see {log}")
            with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"the server on port {port} did not start: see {log}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def server_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", "bench"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


class DatabaseCounters:
    """Transactions and sessions of the target database so far (pg_stat_database), read on
    a connection of its own; each read is one transaction itself."""

    def __init__(self) -> None:
        import psycopg

        from ocsc.live.broker import listen_params

        self._connection = psycopg.connect(autocommit=True, **listen_params())

    def read(self) -> tuple[int, int]:
        row = self._connection.execute(
            "SELECT xact_commit + xact_rollback, sessions FROM pg_stat_database "
            "WHERE datname = current_database()"
        ).fetchone()
        if row is None:
            raise RuntimeError("no statistics for the database")
        return int(row[0]), int(row[1])

    def close(self) -> None:
        self._connection.close()


# The client: watchers and actions --------------------------------------------------------------


@dataclass
class Received:
    at: float  # wall clock when the message arrived
    created_at: float  # the event's created_at


@dataclass
class Stream:
    watcher: Watcher
    connected: asyncio.Event = field(default_factory=asyncio.Event)  # `retry:` arrived
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)  # the backlog too
    connect_seconds: float | None = None  # request → `retry:`, first connection
    received: dict[int, Received] = field(default_factory=dict)
    duplicates: int = 0
    keepalives: int = 0
    reconnects: int = 0
    errors: list[str] = field(default_factory=list)
    last_id: int | None = None


def stream_url(base: str, tracking_no: str) -> str:
    return f"{base}/live/applications/{tracking_no}"


async def follow(session: aiohttp.ClientSession, base: str, stream: Stream) -> None:
    """Read one watcher's stream until cancelled, reconnecting as EventSource does (after
    `retry` milliseconds, with Last-Event-ID)."""
    retry_ms = 2000
    while True:
        headers = {"Authorization": f"Bearer {stream.watcher.key}"}
        if stream.last_id is not None:
            headers["Last-Event-ID"] = str(stream.last_id)
        started = time.monotonic()
        try:
            async with session.get(
                stream_url(base, stream.watcher.tracking_no), headers=headers
            ) as response:
                if response.status != 200:
                    stream.errors.append(f"HTTP {response.status}")
                    body = await response.read()
                    stream.errors[-1] += f" {body[:80]!r}"
                else:
                    retry_ms = await _read(response, stream, started)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            stream.errors.append(f"{type(exc).__name__}: {exc}")
        stream.reconnects += 1
        await asyncio.sleep(retry_ms / 1000)


async def _read(response: aiohttp.ClientResponse, stream: Stream, started: float) -> int:
    retry_ms, event_id, kind = 2000, None, None
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if line == "":
            event_id = kind = None
        elif line.startswith("retry:"):
            retry_ms = int(line[6:])
            if stream.connect_seconds is None:
                stream.connect_seconds = time.monotonic() - started
            stream.connected.set()
        elif line.startswith(":"):
            stream.keepalives += 1
        elif line.startswith("id:"):
            event_id = int(line[3:])
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:") and kind == "timeline" and event_id is not None:
            at = time.time()
            data = json.loads(line[5:])
            if event_id in stream.received:
                stream.duplicates += 1
            else:
                created = datetime.fromisoformat(data["created_at"]).timestamp()
                stream.received[event_id] = Received(at, created)
            stream.last_id = event_id
            if not stream.caught_up.is_set():
                stream.caught_up.set()  # the backlog comes in one chunk: it is all here
    return retry_ms


@dataclass
class Sent:
    watcher: int  # index into the watchers
    via: str  # the server's base URL
    sent_at: float
    answered_at: float = 0.0
    status: int = 0
    event_id: int | None = None
    error: str = ""


async def comment(
    session: aiohttp.ClientSession, base: str, watcher: Watcher, sent: Sent, text: str
) -> None:
    try:
        async with session.post(
            f"{base}/api/v1/applications/{watcher.tracking_no}/comments",
            json={"text": text},
            headers={"Authorization": f"Bearer {watcher.key}"},
        ) as response:
            body = await response.read()
            sent.answered_at = time.time()
            sent.status = response.status
            if response.status == 201:
                sent.event_id = int(json.loads(body)["id"])
            else:
                sent.error = body[:200].decode(errors="replace")
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        sent.answered_at = time.time()
        sent.error = f"{type(exc).__name__}: {exc}"


# Measuring ----------------------------------------------------------------------------------------


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99 (nearest rank) and max, in milliseconds."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return {
        name: round(1000 * value, 1)
        for name, value in (
            ("p50", rank(50)),
            ("p95", rank(95)),
            ("p99", rank(99)),
            ("max", ordered[-1]),
        )
    }


@dataclass
class Report:
    watchers: int
    connected: int = 0
    caught_up: int = 0
    connect_seconds: float = 0.0  # first request → every watcher had `retry:`
    caught_up_seconds: float = 0.0  # … and its backlog
    connect_each_ms: dict[str, float] = field(default_factory=dict)
    rss_before_kib: int | None = None
    rss_after_kib: int | None = None
    rss_per_watcher_kib: float | None = None
    idle_seconds: float = 0.0
    idle_cpu_percent: float | None = None  # of one core
    idle_keepalives: int = 0
    idle_db_xacts_per_second: float | None = None  # minus the baseline without watchers
    idle_db_sessions_per_second: float | None = None
    baseline_db_xacts_per_second: float | None = None
    rate: float = 0.0
    seconds: float = 0.0
    via: str = ""
    expected: int = 0  # comments the API accepted
    received: int = 0  # … that reached their watcher
    lost: int = 0
    failed_actions: int = 0
    duplicates: int = 0
    reconnects: int = 0
    stream_errors: list[str] = field(default_factory=list)
    action_errors: list[str] = field(default_factory=list)
    latency_upper_ms: dict[str, float] = field(default_factory=dict)  # receive − created_at
    latency_lower_ms: dict[str, float] = field(default_factory=dict)  # receive − response
    action_ms: dict[str, float] = field(default_factory=dict)  # the comment's HTTP round trip
    active_cpu_percent: float | None = None
    active_db_xacts_per_second: float | None = None


async def _sample_idle(
    report: Report, streams: list[Stream], pid: int | None, db: DatabaseCounters | None
) -> None:
    keepalives = sum(s.keepalives for s in streams)
    cpu = cpu_seconds(pid) if pid else 0.0
    xacts, sessions = await asyncio.to_thread(db.read) if db else (0, 0)
    started = time.monotonic()
    await asyncio.sleep(report.idle_seconds)
    elapsed = time.monotonic() - started
    if pid:
        report.idle_cpu_percent = round(100 * (cpu_seconds(pid) - cpu) / elapsed, 2)
    if db:
        xacts_after, sessions_after = await asyncio.to_thread(db.read)
        baseline = report.baseline_db_xacts_per_second or 0.0
        report.idle_db_xacts_per_second = round((xacts_after - xacts) / elapsed - baseline, 2)
        report.idle_db_sessions_per_second = round((sessions_after - sessions) / elapsed, 2)
    report.idle_keepalives = sum(s.keepalives for s in streams) - keepalives


async def measure(
    *,
    watch_url: str,
    action_urls: Sequence[str],
    watchers: Sequence[Watcher],
    rate: float,
    seconds: float,
    count: int | None = None,
    watch_pid: int | None = None,
    db: DatabaseCounters | None = None,
    baseline_seconds: float = 0.0,
    settle_seconds: float = 0.0,
    idle_seconds: float = 0.0,
    connect_concurrency: int = 100,
    connect_timeout: float = 300.0,
    grace_seconds: float = 10.0,
    say: Any = print,
) -> Report:
    """Connect a stream per watcher to `watch_url`, then post comments at `rate` per second
    for `seconds` (or `count` of them) through `action_urls` in turn, and see each reach its
    watcher. `rate` 0: one comment at a time, each once the previous one arrived."""
    report = Report(watchers=len(watchers), rate=rate, via=" ".join(action_urls))
    streams = [Stream(watcher) for watcher in watchers]
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        # Warm-up: the server's first request loads much of Django.
        warm = Stream(watchers[0])
        warming = asyncio.ensure_future(follow(session, watch_url, warm))
        await asyncio.wait_for(warm.caught_up.wait(), connect_timeout)
        warming.cancel()
        await asyncio.gather(warming, return_exceptions=True)
        if db and baseline_seconds:
            before = await asyncio.to_thread(db.read)
            await asyncio.sleep(baseline_seconds)
            after = await asyncio.to_thread(db.read)
            report.baseline_db_xacts_per_second = round(
                (after[0] - before[0]) / baseline_seconds, 2
            )
        if watch_pid:
            report.rss_before_kib = rss_kib(watch_pid)

        say(f"connecting {len(streams)} watchers to {watch_url} …")
        gate = asyncio.Semaphore(connect_concurrency)
        started = time.monotonic()

        async def open_stream(stream: Stream) -> asyncio.Task[None]:
            async with gate:
                task = asyncio.ensure_future(follow(session, watch_url, stream))
                waiting = asyncio.ensure_future(stream.connected.wait())
                await asyncio.wait(
                    [task, waiting], timeout=connect_timeout, return_when=asyncio.FIRST_COMPLETED
                )
                waiting.cancel()
                return task

        tasks = await asyncio.gather(*(open_stream(s) for s in streams))
        report.connect_seconds = round(time.monotonic() - started, 2)
        report.connected = sum(s.connected.is_set() for s in streams)
        with suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, connect_timeout - report.connect_seconds)):
                await asyncio.gather(*(s.caught_up.wait() for s in streams if s.connected.is_set()))
        report.caught_up_seconds = round(time.monotonic() - started, 2)
        report.caught_up = sum(s.caught_up.is_set() for s in streams)
        report.connect_each_ms = percentiles(
            [s.connect_seconds for s in streams if s.connect_seconds is not None]
        )
        say(
            f"{report.connected} connected in {report.connect_seconds} s, "
            f"{report.caught_up} caught up in {report.caught_up_seconds} s"
        )
        try:
            await asyncio.sleep(settle_seconds)  # the first poll wakes the new streams once
            if watch_pid:
                report.rss_after_kib = rss_kib(watch_pid)
                grown = report.rss_after_kib - (report.rss_before_kib or 0)
                report.rss_per_watcher_kib = round(grown / max(1, report.connected), 1)
            if idle_seconds:
                report.idle_seconds = idle_seconds
                say(f"idle for {idle_seconds:.0f} s …")
                await _sample_idle(report, streams, watch_pid, db)
            say(f"commenting for {seconds:.0f} s at {rate or 'one at a time'}/s …")
            sent = await _act(
                session, action_urls, streams, rate, seconds, count, report, watch_pid, db
            )
            await _await_arrivals(streams, sent, grace_seconds)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    _tally(report, streams, sent)
    return report


async def _act(
    session: aiohttp.ClientSession,
    action_urls: Sequence[str],
    streams: list[Stream],
    rate: float,
    seconds: float,
    count: int | None,
    report: Report,
    pid: int | None,
    db: DatabaseCounters | None,
) -> list[Sent]:
    order = [i for i, s in enumerate(streams) if s.caught_up.is_set()]
    random.Random(8).shuffle(order)
    sent: list[Sent] = []
    cpu = cpu_seconds(pid) if pid else 0.0
    xacts = (await asyncio.to_thread(db.read))[0] if db else 0
    started = time.monotonic()
    pending: list[asyncio.Task[None]] = []
    if count is None and rate > 0:
        count = round(rate * seconds)
    for k in itertools.count():
        if k == count or (count is None and time.monotonic() - started >= seconds):
            break
        index = order[k % len(order)]
        one = Sent(index, action_urls[k % len(action_urls)], time.time())
        sent.append(one)
        if rate > 0:
            await asyncio.sleep(max(0.0, started + k / rate - time.monotonic()))
            one.sent_at = time.time()
            pending.append(
                asyncio.ensure_future(
                    comment(session, one.via, streams[index].watcher, one, f"bench live {k}")
                )
            )
        else:
            await comment(session, one.via, streams[index].watcher, one, f"bench live {k}")
            await _await_arrivals(streams, [one], 10.0)
    await asyncio.gather(*pending)
    elapsed = time.monotonic() - started
    report.seconds = round(elapsed, 2)
    if pid:
        report.active_cpu_percent = round(100 * (cpu_seconds(pid) - cpu) / elapsed, 2)
    if db:
        xacts_after = (await asyncio.to_thread(db.read))[0]
        report.active_db_xacts_per_second = round((xacts_after - xacts) / elapsed, 2)
    return sent


async def _await_arrivals(streams: list[Stream], sent: list[Sent], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(
            one.event_id is None or one.event_id in streams[one.watcher].received for one in sent
        ):
            return
        await asyncio.sleep(0.05)


def _tally(report: Report, streams: list[Stream], sent: list[Sent]) -> None:
    upper: list[float] = []
    lower: list[float] = []
    for one in sent:
        if one.event_id is None:
            report.failed_actions += 1
            if len(report.action_errors) < 10:
                report.action_errors.append(f"{one.status} {one.error}")
            continue
        report.expected += 1
        got = streams[one.watcher].received.get(one.event_id)
        if got is None:
            report.lost += 1
            continue
        report.received += 1
        upper.append(got.at - got.created_at)
        lower.append(got.at - one.answered_at)
    report.latency_upper_ms = percentiles(upper)
    report.latency_lower_ms = percentiles(lower)
    report.action_ms = percentiles(
        [one.answered_at - one.sent_at for one in sent if one.event_id is not None]
    )
    report.duplicates = sum(s.duplicates for s in streams)
    report.reconnects = sum(max(0, s.reconnects) for s in streams)
    report.stream_errors = [error for s in streams for error in s.errors][:10]


def lines(report: Report) -> Iterator[str]:
    def ms(figures: dict[str, float]) -> str:
        return " / ".join(
            f"{figures.get(k, float('nan')):.0f}" for k in ("p50", "p95", "p99", "max")
        )

    yield (
        f"watchers               {report.connected} of {report.watchers} connected in "
        f"{report.connect_seconds} s, their backlog in {report.caught_up_seconds} s"
    )
    yield f"each connection         {ms(report.connect_each_ms)} ms to `retry:` (p50/p95/p99/max)"
    if report.rss_per_watcher_kib is not None:
        yield (
            f"watch server memory    {report.rss_before_kib} → {report.rss_after_kib} KiB: "
            f"{report.rss_per_watcher_kib} KiB per watcher"
        )
    if report.idle_seconds:
        yield (
            f"idle {report.idle_seconds:.0f} s              CPU {report.idle_cpu_percent} % "
            f"of a core, {report.idle_keepalives} keepalives, database "
            f"{report.idle_db_xacts_per_second} transactions/s "
            f"(baseline {report.baseline_db_xacts_per_second} subtracted), "
            f"{report.idle_db_sessions_per_second} sessions/s"
        )
    yield (
        f"comments               {report.expected} accepted ({report.failed_actions} failed) "
        f"in {report.seconds} s via {report.via}"
    )
    yield (
        f"                       {report.received} received, {report.lost} lost, "
        f"{report.duplicates} duplicates, {report.reconnects} reconnects"
    )
    yield f"commit → watcher ≤      {ms(report.latency_upper_ms)} ms (p50/p95/p99/max)"
    yield f"commit → watcher ≥      {ms(report.latency_lower_ms)} ms (after the API's response)"
    yield f"comment round trip      {ms(report.action_ms)} ms"
    if report.active_cpu_percent is not None:
        yield (
            f"while commenting       watch server CPU {report.active_cpu_percent} %, database "
            f"{report.active_db_xacts_per_second} transactions/s"
        )
    for error in report.stream_errors + report.action_errors:
        yield f"error: {error}"


# The command --------------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.live", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="comments per second (0: in turn)")
    parser.add_argument("--seconds", type=float, default=30.0, help="of commenting")
    parser.add_argument("--via", choices=("other", "same", "both"), default="other")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument("--watch-url", help="a running server to watch on (default: start one)")
    parser.add_argument("--watch-pid", type=int, help="its pid, for memory and CPU")
    parser.add_argument("--action-url", help="a running server to comment through")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE",
        help="a setting for the servers started here, e.g. DB_CONN_MAX_AGE=60",
    )  # fmt: skip
    parser.add_argument(
        "--service", default="/".join(DEFAULT_SERVICE), help="ORG/SERVICE the applications use"
    )
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument("--cleanup", action="store_true", help="delete the bench data, then stop")
    parser.add_argument("--setup-only", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    where = setup_django()
    from django.db import connection, connections

    if args.cleanup:
        removed = cleanup()
        print(f"removed from {where}: {removed}")
        return 0
    limit = raise_open_files()
    if limit < args.watchers * 2 + 100:
        print(f"open files limited to {limit}: raise ulimit -n", file=sys.stderr)
        return 2
    started = time.monotonic()
    org, _, code = args.service.partition("/")
    watchers = setup(args.watchers, service=(org, code))
    print(f"setup: {len(watchers)} bench watchers in {where} in {time.monotonic() - started:.1f} s")
    if args.setup_only:
        return 0
    db = DatabaseCounters() if connection.vendor == "postgresql" else None
    connections.close_all()
    extra = dict(item.split("=", 1) for item in args.server_env)
    log_dir = Path(tempfile.mkdtemp(prefix="ocsc-bench-live-"))
    servers: list[Server] = []
    try:
        if args.watch_url:
            watch_url, watch_pid = args.watch_url, args.watch_pid
        else:
            servers.append(Server.start(free_port(), server_env(extra), log_dir))
            watch_url, watch_pid = servers[0].url, servers[0].pid
        if args.via == "same":
            action_urls = [watch_url]
        else:
            if args.action_url:
                other = args.action_url
            else:
                servers.append(Server.start(free_port(), server_env(extra), log_dir))
                other = servers[-1].url
            action_urls = [other] if args.via == "other" else [other, watch_url]
        print(f"servers: {', '.join(f'{s.url} (pid {s.pid})' for s in servers)}; logs {log_dir}")
        poll = float(extra.get("LIVE_POLL_SECONDS", os.environ.get("LIVE_POLL_SECONDS", "3")))
        report = asyncio.run(
            measure(
                watch_url=watch_url,
                action_urls=action_urls,
                watchers=watchers,
                rate=args.rate,
                seconds=args.seconds,
                watch_pid=watch_pid,
                db=db,
                baseline_seconds=args.baseline_seconds if db else 0.0,
                settle_seconds=poll + 2,
                idle_seconds=args.idle_seconds,
                connect_concurrency=args.connect_concurrency,
            )
        )
    finally:
        for server in servers:
            server.stop()
        if db:
            db.close()
    print()
    for line in lines(report):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2))
    return 0 if report.lost == 0 and report.failed_actions == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
