"""Time each dashboard query of the head's view on the data bench.generate made.

    DATA_DIR=/tmp/bench-sqlite DEBUG=1 .venv/bin/python -m bench.dashboard
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ocsc_bench \
        DEBUG=1 .venv/bin/python -m bench.dashboard

For the busiest organization and for all organizations (a monitor's view), each query runs
`--repeat` times after one warm-up run; the median wall time is printed, in milliseconds.
"""

import argparse
import os
import statistics
import time
from collections.abc import Callable
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


def timed(work: Callable[[], Any], repeat: int) -> float:
    work()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
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
        print(f"  {name:32} {timed(work, args.repeat):9.1f} ms")


if __name__ == "__main__":
    main()
