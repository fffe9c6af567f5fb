"""Fill the database with realistic applications: `python -m bench.generate --help`.

Writes to whatever DATABASES points at (SQLite under DATA_DIR, or DATABASE_URL).
"""

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bench import setup_django


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description=(
            "Generate citizens, officials and applications walked through their real "
            "processes (steps, events, comments, documents' metadata) over the last years."
        ),
    )
    parser.add_argument("--applications", type=int, default=100_000, help="default 100000")
    parser.add_argument("--seed", type=int, default=1, help="the same seed, the same data")
    parser.add_argument("--years", type=float, default=2.0, help="spread over (default 2)")
    parser.add_argument(
        "--catalog", type=Path, default=None, help="loaded if no service exists yet (kp.yaml)"
    )
    parser.add_argument(
        "--truncate", action="store_true", help="delete previously generated data first"
    )
    parser.add_argument("--batch-size", type=int, default=2_000)
    parser.add_argument("--citizens", type=int, default=None, help="default applications/5")
    parser.add_argument("--officials-per-role", type=int, default=3)
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=None,
        help="the present, as an aware ISO datetime (default: now), for reproducible data",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    where = setup_django()
    from bench.run import DEFAULT_CATALOG, Options, generate

    if args.now is not None and args.now.tzinfo is None:
        print("--now needs a time zone, e.g. 2026-03-01T12:00:00+05:00", file=sys.stderr)
        return 2
    options = Options(
        applications=args.applications,
        seed=args.seed,
        years=args.years,
        catalog=args.catalog or DEFAULT_CATALOG,
        truncate=args.truncate,
        batch_size=args.batch_size,
        citizens=args.citizens,
        officials_per_role=args.officials_per_role,
        now=args.now,
    )
    print(f"generating {options.applications:,} applications into {where}")
    try:
        summary = generate(options, say=lambda line: print(line, flush=True))
    except RuntimeError as exc:
        print(f"bench.generate: {exc}", file=sys.stderr)
        return 1
    print()
    removing = f" ({summary.removing_seconds:.1f} s of it removing)" if summary.removed else ""
    print(f"done in {summary.seconds:,.1f} s{removing}: {summary.rate:,.0f} applications/s")
    print(f"{'table':<18} {'written':>12} {'in the table':>14}")
    for name, total in summary.totals.items():
        print(f"{name:<18} {summary.written.get(name, 0):>12,} {total:>14,}")
    print("applications by category:")
    for name, number in summary.categories.most_common():
        print(f"  {name:<18} {number:>10,}  {100 * number / summary.applications:5.1f} %")
    print(f"open and overdue at an organization's step: {summary.overdue_open:,}")
    if summary.steps_closed:
        share = 100 * summary.steps_breached / summary.steps_closed
        print(f"closed steps that breached their timeline: {share:.1f} %")
    print("bottleneck steps (breach often, by design):")
    for service, steps in summary.bottlenecks.items():
        print(f"  {service:<48} {', '.join(steps)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
