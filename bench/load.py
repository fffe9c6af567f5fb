"""The lifecycle benchmark: `python -m bench.load --help`.

Many simulated users, each in a loop, take a water bill complaint (`wssc-bill-correction`)
through its whole life over the REST API of a running server on loopback:

1. `upload` ×2 — the citizen uploads the two documents the service asks for at submission
   (`POST /api/v1/uploads`: a copy of the CNIC and of the disputed bill);
2. `create` — the citizen files the complaint (`POST /api/v1/applications`), to one of the
   WSSC organizations, in an area it serves: state `registration`;
3. `assign` — a zonal manager forwards it from registration to billing's review and assigns
   the review to a named manager billing, in one call (`POST …/{tracking_no}/actions`
   `{"action": "forward", "assignee": <phone>, "state": "registration"}`): the zonal manager
   may act on registration (the desk reports to billing, billing to the zonal manager) and,
   as billing's supervisor, may name who reviews;
4. `resolve` — that manager billing resolves it (`{"action": "resolve", "comment": …,
   "state": "review"}`): state `resolved`, category `closed_ok`;
5. `list` — the citizen lists their applications (`GET /api/v1/applications?limit=10`), and
   the complaint is the newest;
6. `open` — the citizen opens it (`GET /api/v1/applications/{tracking_no}`): resolved.

Before the timed run (the setup, through the ORM on the same database): bench citizens and
officials, marked by their phone numbers `+92307…`, are created or reused, the officials
posted as zonal managers and managers billing of each WSSC organization, and each gets a
fresh API token. `--cleanup` removes them and everything they made.
"""

import argparse
import asyncio
import ipaddress
import json
import os
import random
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import setup_django

PREFIX = "+92307"  # bench.load's people: citizens +923070NNNNNN, officials +923079…
SERVICE = "wssc-bill-correction"
ASSIGNER_ROLE = "zonal_manager"
RESOLVER_ROLE = "manager_billing"
TOKEN_NAME = "bench.load"  # noqa: S105 - the name shown in the token list
KINDS = ("upload", "create", "assign", "resolve", "list", "open")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
DOCUMENTS = ("cnic_copy", "last_bill")  # what the service asks for at submission
ISSUES = ("wrong_amount", "wrong_name", "payment_not_credited", "not_received")
ERROR_PAUSE = 0.5  # seconds a user waits after a failed call before its next lifecycle
KEEPALIVE = 3.0  # seconds an idle connection is kept: less than the server's (uvicorn: 5)
BOUNDARY = "bench-load-4f1c9a"  # of the uploads' multipart bodies
GZIP = 16 + zlib.MAX_WBITS  # zlib's wbits for a gzip stream


# The cast: who files, who assigns, who resolves ------------------------------------------


@dataclass(frozen=True)
class Person:
    phone: str
    token: str


@dataclass(frozen=True)
class Office:
    """One WSSC organization: the areas it serves and its bench officials."""

    organization: str
    areas: tuple[str, ...]
    assigners: tuple[Person, ...]
    resolvers: tuple[Person, ...]


@dataclass(frozen=True)
class Cast:
    offices: tuple[Office, ...]
    citizens: tuple[Person, ...]  # citizen i files with offices[i % len(offices)]


def citizen_phone(number: int) -> str:
    return f"{PREFIX}0{number:06d}"


def official_phone(organization_id: int, role: int, number: int) -> str:
    return f"{PREFIX}9{organization_id % 100:02d}{role}{number:03d}"


def prepare(
    *,
    citizens: int,
    organizations: Sequence[str] = (),
    assigners: int = 2,
    resolvers: int = 4,
) -> Cast:
    """Create or reuse the bench people in the database Django points at, post the officials,
    and give everyone a fresh token (their earlier bench tokens are deleted)."""
    from django.db import transaction

    from ocsc.accounts.actions import PostingInput, issue_token, post_official
    from ocsc.accounts.models import ApiToken, Posting, User
    from ocsc.catalog.models import Service

    services = Service.objects.filter(
        code=SERVICE, active=True, current_process__isnull=False
    ).select_related("organization")
    if organizations:
        services = services.filter(organization__code__in=list(organizations))
    found = list(services.order_by("organization__code"))
    if not found:
        raise RuntimeError(f"no organization offers {SERVICE} (is the kp catalog loaded?)")

    def person(phone: str, name: str) -> User:
        user = User.objects.filter(phone=phone).first()
        return user or User.objects.create_user(phone, name=name)

    def token(user: User) -> Person:
        return Person(user.phone, issue_token(user, name=TOKEN_NAME)[1])

    with transaction.atomic():
        ApiToken.objects.filter(user__phone__startswith=PREFIX, name=TOKEN_NAME).delete()
        offices = []
        for service in found:
            org = service.organization
            staff: dict[str, list[Person]] = {}
            for index, (role, count) in enumerate(
                ((ASSIGNER_ROLE, assigners), (RESOLVER_ROLE, resolvers))
            ):
                staff[role] = []
                for number in range(count):
                    label = role.replace("_", " ")
                    user = person(
                        official_phone(org.pk, index, number),
                        f"Bench {label} {number + 1} ({org.prefix})",
                    )
                    posted = Posting.objects.filter(
                        user=user, organization=org, role__code=role, jurisdiction__isnull=True
                    )
                    if not posted.exists():
                        post_official(user, PostingInput(organization=org.code, role=role))
                    staff[role].append(token(user))
            areas = tuple(org.serves.order_by("code").values_list("code", flat=True))
            offices.append(
                Office(
                    organization=org.code,
                    areas=areas,
                    assigners=tuple(staff[ASSIGNER_ROLE]),
                    resolvers=tuple(staff[RESOLVER_ROLE]),
                )
            )
        people = tuple(
            token(person(citizen_phone(n), f"Bench citizen {n + 1}")) for n in range(citizens)
        )
    return Cast(offices=tuple(offices), citizens=people)


def remove(*, people: bool) -> dict[str, int]:
    """Delete what the bench people made: their applications (with steps, events,
    notifications and documents), their uploads and SMS; with `people`, the people too.
    Tracking counters are set back to the last number still in use."""
    from django.core.files.storage import default_storage
    from django.db import connection, transaction

    from bench import writer
    from ocsc.accounts.models import User
    from ocsc.cases.models import Application, Attachment, TrackingCounter
    from ocsc.notify.models import SmsMessage

    quote = connection.ops.quote_name
    bench_users = (
        f"SELECT {quote('id')} FROM {quote(User._meta.db_table)} "  # noqa: S608
        f"WHERE {quote('phone')} LIKE %s"
    )
    like = [f"{PREFIX}%"]
    files = list(
        Attachment.objects.filter(uploaded_by__phone__startswith=PREFIX).values_list(
            "file", flat=True
        )
    )
    counters = list(
        TrackingCounter.objects.filter(
            organization__applications__citizen__phone__startswith=PREFIX
        )
        .distinct()
        .values_list("pk", "organization__prefix", "year")
    )
    with transaction.atomic():
        removed = {
            "applications": writer.purge(
                Application, f"{quote('citizen_id')} IN ({bench_users})", like
            ),
            "uploads": writer.purge(
                Attachment, f"{quote('uploaded_by_id')} IN ({bench_users})", like
            ),
            "sms": writer.purge(SmsMessage, f"{quote('phone')} LIKE %s", like),
        }
        for pk, prefix, year in counters:
            # Locked first: a submission still numbering holds the row, and its application
            # is then seen by the read below, so that the counter never goes back past it.
            list(TrackingCounter.objects.select_for_update().filter(pk=pk).values_list("pk"))
            last = (
                Application.objects.filter(tracking_no__startswith=f"{prefix}-{year:02d}-")
                .order_by("-tracking_no")
                .values_list("tracking_no", flat=True)
                .first()
            )
            TrackingCounter.objects.filter(pk=pk).update(
                last=int(last.rsplit("-", 1)[1]) if last else 0
            )
        if people:
            removed["people"] = writer.purge(User, f"{quote('phone')} LIKE %s", like)
    for name in files:
        if name and default_storage.exists(name):
            default_storage.delete(name)
    return removed


def task_backlog() -> tuple[int, float | None]:
    """Tasks waiting for the worker, and the age in seconds of the oldest."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    ready = DBTaskResult.objects.ready()
    oldest = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    age = (timezone.now() - oldest).total_seconds() if oldest is not None else None
    return ready.count(), age


def undispatched() -> int:
    """Events of the bench people's applications the notification worker has not handled."""
    from ocsc.cases.models import Event

    return Event.objects.filter(
        application__citizen__phone__startswith=PREFIX, dispatched_at__isnull=True
    ).count()


# CPU, from /proc -------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    comm: str
    ticks: int  # its own user + system time
    reaped: int  # the time of its children that ended


def processes() -> dict[int, Proc]:
    found: dict[int, Proc] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        found[int(entry)] = Proc(
            pid=int(entry),
            ppid=int(fields[1]),
            comm=comm,
            ticks=int(fields[11]) + int(fields[12]),
            reaped=int(fields[13]) + int(fields[14]),
        )
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _listeners(port: int) -> set[int]:
    """The processes holding a listening TCP socket on `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{parts[9]}]")
    holders = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{entry}/fd/{fd}") in inodes:
                    holders.add(int(entry))
                    break
            except OSError:
                continue
    return holders


def _tree(roots: set[int], table: dict[int, Proc]) -> dict[int, int]:
    """Ticks of the roots and all their descendants (with the time of their children that
    ended), by process."""
    members = set(roots) & set(table)
    grew = True
    while grew:
        more = {p.pid for p in table.values() if p.ppid in members} - members
        grew = bool(more)
        members |= more
    return {pid: table[pid].ticks + table[pid].reaped for pid in members}


class CpuMeter:
    """CPU time of the client (this process), the app server (whoever listens on the port,
    and its children), the task worker (`run_worker` processes), PostgreSQL (every backend,
    whatever the database) and the whole machine, between `start` and `stop`."""

    def __init__(self, port: int | None, *, server_match: str = "", worker_match: str = "") -> None:
        self.port = port
        self.server_match = server_match
        self.worker_match = worker_match or "run_worker"
        self.groups: dict[str, set[int]] = {}
        self.before: dict[str, dict[int, int]] = {}
        self.started = 0.0

    def _roots(self) -> dict[str, set[int]]:
        table = processes()
        # Not this process, nor those that started it: their command lines may hold the match.
        mine: set[int] = set()
        pid = os.getpid()
        while pid in table and pid not in mine:
            mine.add(pid)
            pid = table[pid].ppid
        others = [pid for pid in table if pid not in mine]
        if self.server_match:
            server = {pid for pid in others if self.server_match in _cmdline(pid)}
        else:
            server = _listeners(self.port) if self.port else set()
        worker = {pid for pid in others if self.worker_match in _cmdline(pid)}
        postgres = {
            p.pid
            for p in table.values()
            if p.comm == "postgres" and table.get(p.ppid, p).comm != "postgres"
        }
        tops = {
            name: {pid for pid in pids if table.get(pid, Proc(0, 0, "", 0, 0)).ppid not in pids}
            for name, pids in (("server", server), ("worker", worker), ("postgres", postgres))
        }
        return tops

    def _sample(self) -> dict[str, dict[int, int]]:
        table = processes()
        times = os.times()
        sample = {"client": {0: round((times.user + times.system) * TICK)}}
        for name, roots in self.groups.items():
            sample[name] = _tree(roots, table)
        with open("/proc/stat") as stat:
            cpu = [int(v) for v in stat.readline().split()[1:]]
        sample["machine"] = {0: sum(cpu[:8]) - cpu[3] - cpu[4]}  # all but idle and iowait
        return sample

    def start(self) -> None:
        self.groups = self._roots()
        self.before = self._sample()
        self.started = time.monotonic()

    def stop(self) -> dict[str, float]:
        """Per group, the percentage of one core used since `start` (200% = two cores). A
        process that ended meanwhile counts only if its parent is in the group."""
        after = self._sample()
        seconds = max(time.monotonic() - self.started, 1e-9)
        used = {
            name: sum(max(0, t - self.before[name].get(pid, 0)) for pid, t in after[name].items())
            for name in after
            if name in ("client", "machine") or self.groups.get(name)
        }
        return {name: round(100 * ticks / TICK / seconds, 1) for name, ticks in used.items()}


# The load --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    url: str
    users: int
    duration: float = 60.0
    warmup: float = 10.0
    think: float = 0.0  # mean seconds between a user's calls (exponential); 0: none
    page: int = 10
    timeout: float = 60.0
    seed: int = 1
    lifecycles: int | None = None  # per user, then the user stops (tests)
    documents: str = "uploads"  # "uploads": each uploaded first; "form": sent with the complaint


class Failed(Exception):
    """A call failed; the user abandons this lifecycle (already recorded)."""


@dataclass
class Recorder:
    """Latencies of the calls and the lifecycles that ended inside the measured window."""

    window: tuple[float, float] = (0.0, 0.0)
    latency: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    lifecycles: int = 0
    lifecycle_seconds: list[float] = field(default_factory=list)
    made: list[str] = field(default_factory=list)  # tracking numbers, all phases

    def phase(self, at: float) -> str:
        start, end = self.window
        return "warm-up" if at < start else "measured" if at <= end else "after"

    def ok(self, kind: str, began: float, ended: float) -> None:
        if self.phase(ended) == "measured":
            self.latency[kind].append(ended - began)

    def error(self, kind: str, status: str, body: str, at: float) -> None:
        self.errors[(self.phase(at), kind, status)] += 1
        if len(self.samples) < 5:
            self.samples.append(f"{kind} {status}: {body[:500]}")

    def lifecycle(self, began: float, ended: float) -> None:
        if self.phase(ended) == "measured":
            self.lifecycles += 1
            self.lifecycle_seconds.append(ended - began)


def check_url(url: str) -> tuple[str, int]:
    """The loopback host and port of `url`; ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"{url}: give an http:// URL of a server on loopback")
    host = parts.hostname
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"{url}: the benchmark only sends traffic to loopback (127.0.0.1)")
    return host, parts.port or 80


class Http:
    """One simulated user's HTTP/1.1 connection, kept alive between calls: a request is
    written whole, its answer read by its length (or its chunks). It accepts gzip, as the
    mobile app's HTTP client does (nginx compresses JSON), and inflates. The load generator shares
    the machine and its CPU counts against the target: this costs about a fifth of a general
    client's CPU per call (bench/README.md). A connection idle longer than KEEPALIVE, or one
    that failed, is closed and a new one opened for the next call."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0
        self.authority = f"{host}:{port}".encode("latin-1")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, target: str, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
    ) -> tuple[int, bytes]:
        """The answer's status and body; the connection is closed on any exception."""
        if self.writer is not None and time.monotonic() - self.used > KEEPALIVE:
            self.close()
        try:
            if self.reader is None or self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            head = [
                f"{method} {target} HTTP/1.1".encode("latin-1"),
                b"Host: " + self.authority,
                b"Accept-Encoding: gzip",
            ]
            head += [f"{name}: {value}".encode("latin-1") for name, value in headers]
            if body or method in ("POST", "PUT", "PATCH"):
                head.append(b"Content-Length: %d" % len(body))
            self.writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
            status, raw, keep = await self._answer(self.reader, method)
        except BaseException:
            self.close()
            raise
        if keep:
            self.used = time.monotonic()
        else:
            self.close()
        return status, raw

    @staticmethod
    async def _answer(reader: asyncio.StreamReader, method: str) -> tuple[int, bytes, bool]:
        lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        status = int(rest[:3])
        length: int | None = None
        chunked = gzipped = False
        keep = version == b"HTTP/1.1"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                keep = b"close" not in value.lower()
            elif name == b"content-encoding":
                gzipped = value.strip().lower() == b"gzip"
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return status, b"", keep
        if chunked:
            parts = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                parts.append((await reader.readexactly(size + 2))[:-2])
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            body = b"".join(parts)
        elif length is None:  # the body runs to the end of the connection
            body, keep = await reader.read(), False
        else:
            body = await reader.readexactly(length)
        return status, zlib.decompress(body, GZIP) if gzipped else body, keep


def multipart(name: str, filename: str, content_type: str, content: bytes) -> tuple[str, bytes]:
    """The Content-Type and body of a form with one file."""
    return form({name: (filename, content_type, content)}, fields={})


def form(files: dict[str, tuple[str, str, bytes]], *, fields: dict[str, str]) -> tuple[str, bytes]:
    """The Content-Type and body of a form: text `fields`, then `files` (name → filename,
    content type, content)."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode()
        + b"\r\n"
        for name, value in fields.items()
    ]
    parts += [
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"'
            f"\r\nContent-Type: {content_type}\r\n\r\n"
        ).encode()
        + content
        + b"\r\n"
        for name, (filename, content_type, content) in files.items()
    ]
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return f"multipart/form-data; boundary={BOUNDARY}", body


class User:
    """One simulated user: a citizen and the officials of their organization."""

    def __init__(self, index: int, cast: Cast, options: Options, recorder: Recorder) -> None:
        self.index = index
        self.citizen = cast.citizens[index % len(cast.citizens)]
        self.office = cast.offices[index % len(cast.offices)]
        self.options = options
        self.http = Http(*check_url(options.url))
        self.recorder = recorder
        self.base = urlsplit(options.url).path.rstrip("/") + "/api/v1"
        self.random = random.Random(options.seed * 100_003 + index)
        self.turn = index // len(cast.offices)

    async def think(self) -> None:
        if self.options.think > 0:
            await asyncio.sleep(self.random.expovariate(1 / self.options.think))

    async def call(
        self,
        kind: str,
        method: str,
        path: str,
        token: str,
        *,
        body: Any = None,
        form: tuple[str, bytes] | None = None,
        check: Callable[[Any], bool] | None = None,
    ) -> Any:
        """One request (a JSON body, or a form's Content-Type and body); its JSON answer."""
        headers = [("Authorization", f"Bearer {token}")]
        content = b""
        if form is not None:
            headers.append(("Content-Type", form[0]))
            content = form[1]
        elif body is not None:
            headers.append(("Content-Type", "application/json"))
            content = json.dumps(body).encode()
        began = time.monotonic()
        try:
            async with asyncio.timeout(self.options.timeout):
                status, raw = await self.http.request(method, self.base + path, headers, content)
        except Exception as exc:  # any failure of the request counts as an error
            self.recorder.error(kind, type(exc).__name__, str(exc), time.monotonic())
            raise Failed from exc
        ended = time.monotonic()
        if not 200 <= status < 300:
            self.recorder.error(kind, str(status), raw.decode(errors="replace"), ended)
            raise Failed
        answer = json.loads(raw) if raw else None
        if check is not None and not check(answer):
            self.recorder.error(kind, "unexpected", raw.decode(errors="replace"), ended)
            raise Failed
        self.recorder.ok(kind, began, ended)
        return answer

    async def upload(self, name: str) -> str:
        form = multipart("file", name, "application/pdf", PDF)
        answer = await self.call("upload", "POST", "/uploads", self.citizen.token, form=form)
        return str(answer["upload_id"])

    async def lifecycle(self) -> str:
        office = self.office
        self.turn += 1
        resolver = office.resolvers[self.turn % len(office.resolvers)]
        assigner = office.assigners[self.turn % len(office.assigners)]
        documents = {}
        if self.options.documents == "uploads":
            for code in DOCUMENTS:
                documents[code] = await self.upload(f"{code}.pdf")
                await self.think()
        complaint: dict[str, Any] = {
            "service": SERVICE,
            "organization": office.organization,
            "jurisdiction": office.areas[self.turn % len(office.areas)],
            "data": {
                "consumer_number": f"{self.index:05d}-{self.turn:06d}",
                "issue": ISSUES[self.turn % len(ISSUES)],
                "description": "The bill for last month is twice the usual amount.",
            },
            "documents": documents,
            "channel": "mobile",
        }
        if self.options.documents == "form":  # the files with the complaint, one request
            files = {code: (f"{code}.pdf", "application/pdf", PDF) for code in DOCUMENTS}
            sent = form(files, fields={"application": json.dumps(complaint)})
            created = await self.call(
                "create", "POST", "/applications", self.citizen.token, form=sent
            )
        else:
            created = await self.call(
                "create", "POST", "/applications", self.citizen.token, body=complaint
            )
        number = str(created["tracking_no"])
        self.recorder.made.append(number)
        await self.think()
        path = f"/applications/{number}"
        forward = {"action": "forward", "assignee": resolver.phone, "state": "registration"}
        await self.call(
            "assign",
            "POST",
            path + "/actions",
            assigner.token,
            body=forward,
            check=lambda a: a["state"] == "review" and a["step"]["assignee"] is not None,
        )
        await self.think()
        resolve = {"action": "resolve", "comment": "Bill corrected.", "state": "review"}
        await self.call(
            "resolve",
            "POST",
            path + "/actions",
            resolver.token,
            body=resolve,
            check=lambda a: a["category"] == "closed_ok",
        )
        await self.think()
        await self.call(
            "list",
            "GET",
            f"/applications?limit={self.options.page}",
            self.citizen.token,
            check=lambda a: bool(a["items"]) and a["items"][0]["tracking_no"] == number,
        )
        await self.think()
        await self.call(
            "open", "GET", path, self.citizen.token, check=lambda a: a["state"] == "resolved"
        )
        await self.think()
        return number

    async def run(self, stop: asyncio.Event) -> None:
        done = 0
        while not stop.is_set():
            if self.options.lifecycles is not None and done >= self.options.lifecycles:
                return
            began = time.monotonic()
            try:
                await self.lifecycle()
            except Failed:
                await asyncio.sleep(ERROR_PAUSE)  # not a tight loop against a failing server
                continue
            self.recorder.lifecycle(began, time.monotonic())
            done += 1


@dataclass
class Report:
    url: str
    users: int
    think: float
    warmup: float
    seconds: float  # the measured window
    lifecycles: int
    lifecycles_per_second: float
    calls_per_second: float
    calls: dict[str, dict[str, float]]
    lifecycle_ms: dict[str, float]
    errors: list[dict[str, Any]]
    error_samples: list[str]
    cpu: dict[str, float]
    backlog: dict[str, Any] = field(default_factory=dict)
    applications: list[str] = field(default_factory=list, repr=False)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not values:
        return float("nan")
    rank = max(1, -(-len(values) * share // 100))
    return values[int(rank) - 1]


def _stats(seconds: list[float]) -> dict[str, float]:
    """Count and p50/p95/p99/max in ms; only the count of a kind never called (valid JSON)."""
    values = sorted(seconds)
    if not values:
        return {"count": 0}
    ms = 1000.0
    return {
        "count": len(values),
        "p50": round(percentile(values, 50) * ms, 1),
        "p95": round(percentile(values, 95) * ms, 1),
        "p99": round(percentile(values, 99) * ms, 1),
        "max": round(values[-1] * ms, 1),
    }


async def ready(url: str, seconds: float = 60.0) -> None:
    """Wait until the server answers (it may still be starting); RuntimeError if it never does."""
    deadline = time.monotonic() + seconds
    http = Http(*check_url(url))
    target = urlsplit(url).path.rstrip("/") + "/api/v1/organizations"
    try:
        while True:
            try:
                async with asyncio.timeout(5):
                    status, _ = await http.request("GET", target)
                if status == 200:
                    return
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")
            await asyncio.sleep(0.5)
    finally:
        http.close()


async def run(options: Options, cast: Cast, meter: CpuMeter | None = None) -> Report:
    """Run `options.users` users against the server until the measured window ends (or each
    has done `options.lifecycles`); calls in flight then finish, and are not counted."""
    check_url(options.url)
    recorder = Recorder()
    stop = asyncio.Event()
    await ready(options.url)
    now = time.monotonic()
    recorder.window = (now + options.warmup, now + options.warmup + options.duration)
    users = [User(i, cast, options, recorder) for i in range(options.users)]
    tasks = [asyncio.create_task(user.run(stop)) for user in users]
    try:
        if options.warmup > 0:
            await asyncio.wait(tasks, timeout=options.warmup)
        if meter is not None:
            meter.start()
        measured_from = time.monotonic()
        recorder.window = (measured_from, measured_from + options.duration)
        await asyncio.wait(tasks, timeout=options.duration)
        measured_to = time.monotonic()
        recorder.window = (measured_from, measured_to)
        cpu = meter.stop() if meter is not None else {}
        stop.set()
        await asyncio.wait(tasks, timeout=options.timeout)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for user in users:
            user.http.close()
    seconds = measured_to - measured_from
    calls = {kind: _stats(recorder.latency[kind]) for kind in KINDS}
    total_calls = sum(len(v) for v in recorder.latency.values())
    return Report(
        url=options.url,
        users=options.users,
        think=options.think,
        warmup=options.warmup,
        seconds=round(seconds, 2),
        lifecycles=recorder.lifecycles,
        lifecycles_per_second=round(recorder.lifecycles / seconds, 2) if seconds else 0.0,
        calls_per_second=round(total_calls / seconds, 1) if seconds else 0.0,
        calls=calls,
        lifecycle_ms=_stats(recorder.lifecycle_seconds),
        errors=[
            {"phase": phase, "call": kind, "status": status, "count": count}
            for (phase, kind, status), count in sorted(recorder.errors.items())
        ],
        error_samples=recorder.samples,
        cpu=cpu,
        applications=recorder.made,
    )


# Output ----------------------------------------------------------------------------------


def table(report: Report) -> Iterator[str]:
    think = f"think {report.think:g} s" if report.think else "no think time"
    yield (
        f"{report.users} users, {think}: {report.lifecycles:,} lifecycles in "
        f"{report.seconds:.1f} s = {report.lifecycles_per_second:.1f}/s "
        f"({report.calls_per_second:,.0f} calls/s; {report.warmup:g} s warm-up not counted)"
    )
    yield f"  {'call':<10}{'count':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    # (a kind not called, such as `upload` with `--documents form`, is left out)
    rows = [*report.calls.items(), ("lifecycle", report.lifecycle_ms)]
    for kind, s in (row for row in rows if row[1]["count"]):
        yield (
            f"  {kind:<10}{int(s['count']):>8,}{s['p50']:>9.1f}{s['p95']:>9.1f}"
            f"{s['p99']:>9.1f}{s['max']:>9.1f}"
        )
    if report.errors:
        yield "  errors:"
        for e in report.errors:
            yield f"    {e['count']:>6,} {e['call']} {e['status']} ({e['phase']})"
        for sample in report.error_samples:
            yield f"    e.g. {sample}"
    else:
        yield "  errors: none"
    if report.cpu:
        parts = ", ".join(f"{name} {value:.0f}%" for name, value in report.cpu.items())
        yield f"  CPU (% of one core, 200% = both): {parts}"
    if report.backlog:
        b = report.backlog
        oldest = f", oldest {b['oldest_seconds']:.1f} s" if b.get("oldest_seconds") else ""
        cleared = (
            f"; cleared {b['cleared_after']:.1f} s after the run"
            if b.get("cleared_after") is not None
            else ""
        )
        yield (
            f"  worker backlog at the end: {b['ready']:,} tasks ready{oldest}; "
            f"{b['undispatched']:,} events not yet dispatched{cleared}"
        )


def summary(reports: Sequence[Report]) -> Iterator[str]:
    yield (
        f"{'users':>6}{'lc/s':>8}" + "".join(f"{k + ' p95':>12}" for k in KINDS) + f"{'errors':>8}"
    )
    for r in reports:
        errors = sum(e["count"] for e in r.errors if e["phase"] == "measured")
        yield (
            f"{r.users:>6}{r.lifecycles_per_second:>8.1f}"
            + "".join(
                f"{r.calls[k]['p95']:>12.1f}" if r.calls[k]["count"] else f"{'—':>12}"
                for k in KINDS
            )
            + f"{errors:>8}"
        )


# The command -----------------------------------------------------------------------------


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=(
            "The lifecycle benchmark: simulated users take water bill complaints through "
            "upload, create, assign, resolve, list and open, against a server on loopback. "
            "The database (DATABASE_URL) must be the server's: the bench people are made there."
        ),
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server (loopback)")
    parser.add_argument(
        "--users", default="50", help="concurrent users; a list (50,200,500) runs each in turn"
    )
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds not counted")
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean think time between calls, s (0: none)"
    )
    parser.add_argument("--page", type=int, default=10, help="the list's page size")
    add_documents_option(parser)
    parser.add_argument("--timeout", type=float, default=60.0, help="per call, s")
    parser.add_argument("--organizations", default="", help="WSSC codes (default: all)")
    parser.add_argument("--assigners", type=int, default=2, help="zonal managers per org")
    parser.add_argument("--resolvers", type=int, default=4, help="managers billing per org")
    parser.add_argument("--keep", action="store_true", help="keep earlier runs' bench applications")
    parser.add_argument("--drain", type=float, default=60.0, help="wait for the worker, s")
    parser.add_argument("--server-match", default="", help="server processes by command line")
    parser.add_argument("--json", type=Path, default=None, help="write the reports here")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--cleanup", action="store_true", help="remove the bench people and all they made"
    )
    return parser.parse_args(argv)


def add_documents_option(parser: argparse.ArgumentParser) -> None:
    """`--documents`, of this benchmark and of `bench.cpu`."""
    parser.add_argument(
        "--documents",
        choices=["uploads", "form"],
        default="uploads",
        help="upload each document first (two calls), or send them with the complaint as a form",
    )


def retrying[T](work: Callable[[], T], tries: int = 5) -> T:
    """`work` again after a deadlock, or a row written meanwhile by a worker still busy with
    the rows being deleted."""
    from django.db import IntegrityError, OperationalError

    for attempt in range(tries):
        try:
            return work()
        except (OperationalError, IntegrityError):
            if attempt == tries - 1:
                raise
            time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def drain(limit: float) -> dict[str, Any]:
    """The worker's backlog now, and how long it takes to clear (up to `limit` s)."""
    ready, oldest = task_backlog()
    state: dict[str, Any] = {
        "ready": ready,
        "oldest_seconds": round(oldest, 1) if oldest else None,
        "undispatched": undispatched(),
        "cleared_after": None,
    }
    began = time.monotonic()
    while ready and time.monotonic() - began < limit:
        time.sleep(0.5)
        ready, _ = task_backlog()
    if not ready:
        state["cleared_after"] = round(time.monotonic() - began, 1)
    return state


def main(argv: Sequence[str] | None = None) -> int:
    import uvloop

    args = parse(argv)
    where = setup_django()
    from django.db import connection

    if args.cleanup:
        removed = retrying(lambda: remove(people=True))
        print(f"removed from {where}: " + ", ".join(f"{v:,} {k}" for k, v in removed.items()))
        return 0
    try:
        _host, port = check_url(args.url)
    except ValueError as exc:
        print(f"bench.load: {exc}", file=sys.stderr)
        return 2
    levels = [int(n) for n in args.users.split(",") if n.strip()]
    if not args.keep:
        began = time.monotonic()  # let the workers finish with what is to be removed
        while undispatched() and time.monotonic() - began < args.drain:
            time.sleep(0.5)
        removed = retrying(lambda: remove(people=False))
        if removed["applications"]:
            print(f"removed {removed['applications']:,} applications of earlier runs")
    organizations = [c.strip() for c in args.organizations.split(",") if c.strip()]
    cast = prepare(
        citizens=max(levels),
        organizations=organizations,
        assigners=args.assigners,
        resolvers=args.resolvers,
    )
    connection.close()  # the run holds no database connection of its own
    offices = ", ".join(o.organization for o in cast.offices)
    print(f"lifecycle benchmark against {args.url}, database {where}; offices: {offices}")
    reports = []
    for users in levels:
        options = Options(
            url=args.url,
            users=users,
            duration=args.duration,
            warmup=args.warmup,
            think=args.think,
            page=args.page,
            timeout=args.timeout,
            seed=args.seed,
            documents=args.documents,
        )
        meter = CpuMeter(port, server_match=args.server_match)
        # On uvloop, as the app servers are: the load generator shares the machine, and
        # its CPU is counted against the target.
        report = asyncio.run(run(options, cast, meter), loop_factory=uvloop.new_event_loop)
        report.backlog = drain(args.drain)
        connection.close()
        reports.append(report)
        print()
        for line in table(report):
            print(line, flush=True)
    if len(reports) > 1:
        print()
        for line in summary(reports):
            print(line)
    if args.json is not None:
        rows = [{k: v for k, v in asdict(r).items() if k != "applications"} for r in reports]
        args.json.write_text(json.dumps({"database": where, "reports": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
