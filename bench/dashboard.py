"""Time each dashboard query of the head's view on the data bench.generate made.

    DATA_DIR=/tmp/bench-sqlite DEBUG=1 .venv/bin/python -m bench.dashboard
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ocsc_bench \
        DEBUG=1 .venv/bin/python -m bench.dashboard

For the busiest organization and for all organizations (a monitor's view), each query runs
`--repeat` times after one warm-up run; the median wall time is printed, in milliseconds.

On a machine other work keeps busy, wall times say more about the others than about the
queries. `--cpu` also prints the median CPU time the work took: this process's plus that of
its PostgreSQL backend (read from /proc, so the database must run on this host; parallel
workers are turned off for the connection so that the backend does all of it). On an idle
machine with the data in memory, the wall time comes close to that sum.
"""

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocsc.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from ocsc.accounts.models import Posting  # noqa: E402
from ocsc.cases.models import Application  # noqa: E402
from ocsc.cases.queries import work_queue  # noqa: E402
from ocsc.catalog.models import Organization  # noqa: E402
from ocsc.insights import queries as figures  # noqa: E402


def backend_cpu() -> Callable[[], float]:
    """A clock of the CPU seconds used by this connection's PostgreSQL backend."""
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    ticks = os.sysconf("SC_CLK_TCK")

    def used() -> float:
        # fields 14 and 15 of /proc/PID/stat (after the command in parentheses): utime, stime
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    return used


def timed(
    work: Callable[[], Any], repeat: int, server: Callable[[], float] | None = None
) -> tuple[float, float | None]:
    """The median wall time and, with a server clock, the median CPU time, in ms."""
    work()
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu, served = time.perf_counter(), time.process_time(), server() if server else 0.0
        work()
        walls.append((time.perf_counter() - start) * 1000)
        if server:
            cpus.append((time.process_time() - cpu + server() - served) * 1000)
    return statistics.median(walls), statistics.median(cpus) if cpus else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--cpu", action="store_true", help="also the CPU time (see above)")
    args = parser.parse_args()
    server = backend_cpu() if args.cpu and connection.vendor == "postgresql" else None
    total = Application.objects.count()
    busiest = (
        Application.objects.values("organization_id").annotate(n=Count("pk")).order_by("-n").first()
    )
    if busiest is None:
        raise SystemExit("no applications: run python -m bench.generate first")
    org = Organization.objects.get(pk=busiest["organization_id"])
    everyone = list(Organization.objects.values_list("pk", flat=True))
    period = figures.Period.last_days(args.days)
    clerk = (
        Posting.objects.filter(organization=org, role__code__in=["clerk", "complaint_cell"])
        .select_related("user")
        .first()
    )
    open_rows = list(
        Application.objects.filter(organization=org, category__in=figures.OPEN).select_related(
            "process", "organization__calendar", "current_step"
        )[:500]
    )
    print(
        f"{connection.vendor}: {total:,} applications; busiest {org.code} "
        f"({busiest['n']:,}); period {args.days} days; median of {args.repeat} runs"
    )
    queries: list[tuple[str, Callable[[], Any]]] = [
        ("headline (one org)", lambda: figures.headline([org.pk], period)),
        (
            "monitor: headline per org",
            lambda: [figures.headline([pk], period) for pk in everyone],
        ),
        ("monitor: totals of every org", lambda: figures.totals(everyone, period)),
        ("bottlenecks (one org)", lambda: figures.bottlenecks([org.pk], period)),
        ("people (one org)", lambda: figures.people([org.pk], period)),
        ("stalled, first 20", lambda: list(figures.stalled([org.pk])[:20])),
        ("overdue steps, first 20", lambda: list(figures.overdue_steps([org.pk])[:20])),
        ("trend (one org)", lambda: figures.trend([org.pk], period)),
        ("expected completion, 500 open", lambda: figures.expected_completion(open_rows)),
    ]
    if clerk is not None:
        queries.append(("work queue, first 200", lambda: list(work_queue(clerk.user)[:200])))
    for name, work in queries:
        wall, cpu = timed(work, args.repeat, server)
        print(f"  {name:32} {wall:9.1f} ms" + (f"  (CPU {cpu:7.1f} ms)" if cpu is not None else ""))


if __name__ == "__main__":
    main()
