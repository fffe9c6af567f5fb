"""CPU per call of a lifecycle, in one process: `python -m bench.cpu --help`.

The lifecycle of `bench.load` (two uploads, create, assign, resolve, list, open), call after
call through Django's own request handler (the test client: no HTTP server, no network), and
then the dispatch of the Events each lifecycle made, together, as the worker that hears of
them dispatches them (notifications made and sent, claims and attempts written). It reports the
process's CPU time per call kind and lifecycle: the app's and the worker's own cost, without
the app server, the task queue or PostgreSQL, and with no other process competing.
Repeatable on a busy machine (it counts CPU time, not wall time) and fast: a hundred
lifecycles in a few seconds.

`--profile KIND` (one of the kinds, `app` for all the calls, or `all`) records a cProfile of
those calls, sorted by cumulative time; `--out FILE` keeps it for `pstats`.

The people are `bench.load`'s (+92307…), made or reused on the database Django points at; what
the run made is removed at the end (as `bench.load` removes its earlier runs).
"""

import argparse
import contextlib
import cProfile
import io
import logging
import pstats
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from json import dumps
from pathlib import Path
from typing import Any

from bench import setup_django

KINDS = ("upload", "create", "assign", "resolve", "list", "open", "worker")


@dataclass
class Meter:
    """CPU seconds and counts per kind; a profile of the kinds asked for."""

    profile: str = ""
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))
    calls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    statements: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    profiler: cProfile.Profile = field(default_factory=lambda: cProfile.Profile(time.process_time))

    def profiled(self, kind: str) -> bool:
        return self.profile in (kind, "all") or (self.profile == "app" and kind != "worker")

    def time[T](self, kind: str, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`work(*args, **kwargs)`, its CPU time and SQL statements counted under `kind`."""
        from django.db import connection

        def count(execute: Callable[..., Any], *args: Any) -> Any:
            self.statements[kind] += 1
            return execute(*args)

        profiled = self.profiled(kind)
        began = time.process_time()
        if profiled:
            self.profiler.enable()
        try:
            with connection.execute_wrapper(count):
                return work(*args, **kwargs)
        finally:
            if profiled:
                self.profiler.disable()
            self.seconds[kind] += time.process_time() - began
            self.calls[kind] += 1


class Lifecycles:
    """The calls of `bench.load`'s lifecycle through Django's handler, one client per token."""

    def __init__(self, cast: Any, documents: str = "uploads") -> None:
        from django.test import Client

        self.cast = cast
        self.documents = documents  # as bench.load's --documents
        self.clients: dict[str, Any] = {}
        for person in self._people():  # each client loads the middleware once, here
            self.clients[person.token] = Client(HTTP_AUTHORIZATION=f"Bearer {person.token}")

    def _people(self) -> Iterator[Any]:
        for office in self.cast.offices:
            yield from office.assigners
            yield from office.resolvers
        yield from self.cast.citizens

    def run(self, index: int, meter: Meter) -> str:
        from django.core.files.uploadedfile import SimpleUploadedFile

        from bench import load
        from ocsc.cases.models import Event
        from ocsc.notify.actions import dispatch_events

        office = self.cast.offices[index % len(self.cast.offices)]
        citizen = self.clients[self.cast.citizens[index % len(self.cast.citizens)].token]
        assigner = office.assigners[index % len(office.assigners)]
        resolver = office.resolvers[index % len(office.resolvers)]

        def answer(response: Any, status: int) -> Any:
            if response.status_code != status:
                raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
            return response.json()

        def pdf(code: str) -> SimpleUploadedFile:
            return SimpleUploadedFile(f"{code}.pdf", load.PDF, content_type="application/pdf")

        documents = {}
        if self.documents == "uploads":
            for code in load.DOCUMENTS:
                made = meter.time("upload", citizen.post, "/api/v1/uploads", {"file": pdf(code)})
                documents[code] = answer(made, 201)["upload_id"]
        complaint: dict[str, Any] = {
            "service": load.SERVICE,
            "organization": office.organization,
            "jurisdiction": office.areas[index % len(office.areas)],
            "data": {
                "consumer_number": f"{index:05d}-000001",
                "issue": load.ISSUES[index % len(load.ISSUES)],
                "description": "The bill for last month is twice the usual amount.",
            },
            "documents": documents,
            "channel": "mobile",
        }
        json = "application/json"
        if self.documents == "form":  # the files with the complaint, one request
            sent = {"application": dumps(complaint), **{c: pdf(c) for c in load.DOCUMENTS}}
            made = meter.time("create", citizen.post, "/api/v1/applications", sent)
        else:
            made = meter.time("create", citizen.post, "/api/v1/applications", complaint, json)
        number = str(answer(made, 201)["tracking_no"])
        path = f"/api/v1/applications/{number}"
        forward = {"action": "forward", "assignee": resolver.phone, "state": "registration"}
        by_assigner = self.clients[assigner.token]
        answer(meter.time("assign", by_assigner.post, f"{path}/actions", forward, json), 200)
        resolve = {"action": "resolve", "comment": "Bill corrected.", "state": "review"}
        by_resolver = self.clients[resolver.token]
        answer(meter.time("resolve", by_resolver.post, f"{path}/actions", resolve, json), 200)
        listed = answer(meter.time("list", citizen.get, "/api/v1/applications?limit=10"), 200)
        if listed["items"][0]["tracking_no"] != number:
            raise RuntimeError(f"{number} is not the newest of the citizen's list")
        if answer(meter.time("open", citizen.get, path), 200)["state"] != "resolved":
            raise RuntimeError(f"{number} is not resolved")
        events = Event.objects.filter(application__tracking_no=number, dispatched_at=None)
        # its Events together, as the listening worker (or one merging the queue's calls) does
        event_ids = list(events.order_by("pk").values_list("pk", flat=True))
        meter.time("worker", dispatch_events, event_ids, send_now=True)
        return number


def measure(
    lifecycles: int, *, warmup: int = 25, profile: str = "", documents: str = "uploads"
) -> Meter:
    """Run `warmup` lifecycles, then `lifecycles` measured ones; the meter of those."""
    from django.utils import timezone

    from bench import load

    cast = load.prepare(citizens=20)
    runner = Lifecycles(cast, documents)
    began = timezone.now()
    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # the console SMS and e-mails are not what is measured
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for index in range(warmup):
                runner.run(index, Meter())
            meter = Meter(profile=profile)
            for index in range(warmup, warmup + lifecycles):
                runner.run(index, meter)
    finally:
        quiet.setLevel(level)
        load.remove(people=False)
        _forget_dispatches(since=began)
    return meter


def _forget_dispatches(*, since: Any) -> None:
    """The dispatch tasks the run queued (its Events were dispatched here, and are gone):
    on the database backend, they would wait for the next worker."""
    from django.conf import settings

    if not settings.TASKS["default"]["BACKEND"].endswith(".DatabaseBackend"):
        return
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(
        status="READY", task_path="ocsc.notify.tasks.dispatch", enqueued_at__gte=since
    ).delete()


def report(meter: Meter, lifecycles: int) -> Iterator[str]:
    yield (
        f"{'call':8} {'ms per call':>12} {'ms per lifecycle':>17} {'calls':>7} {'SQL per call':>13}"
    )
    app = 0.0
    statements = 0
    for kind in KINDS:
        per_lifecycle = meter.seconds[kind] * 1000 / lifecycles
        calls = max(meter.calls[kind], 1)
        per_call = meter.seconds[kind] * 1000 / calls
        app += per_lifecycle if kind != "worker" else 0.0
        statements += meter.statements[kind]
        yield (
            f"{kind:8} {per_call:12.2f} {per_lifecycle:17.2f} {meter.calls[kind]:7,}"
            f" {meter.statements[kind] / calls:13.1f}"
        )
    worker = meter.seconds["worker"] * 1000 / lifecycles
    yield f"app calls {app:.2f} ms + worker {worker:.2f} ms = {app + worker:.2f} ms per lifecycle"
    yield f"{statements / lifecycles:.1f} SQL statements per lifecycle"


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    from bench import load

    parser = argparse.ArgumentParser(
        prog="python -m bench.cpu",
        description="CPU per call of bench.load's lifecycle, in one process (DATABASE_URL).",
    )
    parser.add_argument("--lifecycles", type=int, default=100, help="measured lifecycles")
    parser.add_argument("--warmup", type=int, default=25, help="lifecycles not measured")
    parser.add_argument(
        "--profile", default="", choices=["", *KINDS, "app", "all"], help="cProfile these calls"
    )
    load.add_documents_option(parser)
    parser.add_argument("--out", type=Path, default=None, help="keep the profile here")
    parser.add_argument("--top", type=int, default=40, help="profile lines printed")
    options = parser.parse_args(argv)
    if options.lifecycles < 1 or options.warmup < 0:
        parser.error("--lifecycles must be at least 1 and --warmup at least 0")
    return options


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(argv)
    database = setup_django()
    meter = measure(
        options.lifecycles,
        warmup=options.warmup,
        profile=options.profile,
        documents=options.documents,
    )
    print(f"{options.lifecycles} lifecycles in one process, {database}")
    for line in report(meter, options.lifecycles):
        print(line)
    if options.profile:
        if options.out:
            meter.profiler.dump_stats(options.out)
        stats = pstats.Stats(meter.profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(options.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
