"""The generator's main loop: people, submissions spread over the years, each application
walked through its process, written in batches; then the counters, sequences and a summary."""

import io
import random
import struct
import time
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from bench import writer
from bench.lifecycle import (
    PLACEHOLDER_IMAGE,
    PLACEHOLDER_PDF,
    ApplicationRow,
    Simulator,
)
from bench.world import (
    CITIZEN_PREFIX,
    OFFICIAL_PREFIX,
    OrgPlan,
    ServicePlan,
    make_citizens,
    make_officials,
    organizations,
    services,
)
from ocsc.accounts.models import Posting, User
from ocsc.cases.models import Application, Attachment, Event, Step, TrackingCounter
from ocsc.catalog.models import Service

DEFAULT_CATALOG = Path(settings.BASE_DIR) / "catalogs" / "kp.yaml"

# Submissions by local hour of the day (people file in the day and the evening).
HOURS = (
    0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 1.5, 2.5, 3.0, 3.0,
    2.8, 2.5, 2.2, 2.0, 1.8, 1.6, 1.6, 1.8, 2.0, 1.8, 1.2, 0.6,
)  # fmt: skip
APPLICATION_CHANNELS = (("web", 45), ("mobile", 30), ("counter", 20), ("api", 5))
COMPLAINT_CHANNELS = (
    ("mobile", 40), ("web", 25), ("open311", 12), ("counter", 13), ("api", 5), ("sms", 5),
)  # fmt: skip


@dataclass(frozen=True)
class Options:
    applications: int = 100_000
    seed: int = 1
    years: float = 2.0
    catalog: Path = DEFAULT_CATALOG
    truncate: bool = False
    batch_size: int = 2_000
    citizens: int | None = None  # default: one for every five applications
    officials_per_role: int = 3
    now: datetime | None = None  # default: the current time


@dataclass
class Summary:
    seconds: float = 0.0
    written: dict[str, int] = field(default_factory=dict)  # rows written, per table
    totals: dict[str, int] = field(default_factory=dict)  # rows in the table afterwards
    categories: Counter[str] = field(default_factory=Counter)
    overdue_open: int = 0
    steps_closed: int = 0
    steps_breached: int = 0
    bottlenecks: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    removing_seconds: float = 0.0  # of `seconds`, spent deleting earlier generated data

    @property
    def applications(self) -> int:
        return self.written.get("applications", 0)

    @property
    def rate(self) -> float:
        """Applications generated per second (deleting old data left out)."""
        seconds = self.seconds - self.removing_seconds
        return self.applications / seconds if seconds > 0 else 0.0


Say = Callable[[str], None]


def generate(options: Options, say: Say = print) -> Summary:
    writer.check_vendor()
    writer.tune_session()
    started = time.perf_counter()
    summary = Summary()
    now = options.now or timezone.now()
    rng = random.Random(options.seed)
    if options.truncate:
        summary.removed = truncate()
        summary.removing_seconds = time.perf_counter() - started
        say(
            f"removed {summary.removed['applications']:,} applications and "
            f"{summary.removed['users']:,} people generated before, "
            f"in {summary.removing_seconds:.1f} s"
        )
    elif User.objects.filter(
        Q(phone__startswith=CITIZEN_PREFIX) | Q(phone__startswith=OFFICIAL_PREFIX)
    ).exists():
        raise RuntimeError("generated data is already there: add --truncate to replace it")
    if not Service.objects.filter(active=True, current_process__isnull=False).exists():
        out = io.StringIO()
        call_command("load_catalog", str(options.catalog), stdout=out, stderr=out)
        say(out.getvalue().strip())
    _placeholders()

    start = now - timedelta(days=365.25 * options.years)
    with transaction.atomic():
        officials = make_officials(options.officials_per_role, rng, start - timedelta(days=30))
        citizen_count = options.citizens or max(1, options.applications // 5)
        citizens = make_citizens(citizen_count, rng, start)
    orgs = organizations(officials)
    plans = services(orgs, options.seed)
    if not plans:
        raise RuntimeError("no active service with a process: load a catalog first")
    summary.bottlenecks = {plan.label: plan.bottlenecks for plan in plans}
    say(
        f"{len(orgs)} organizations, {len(plans)} services, "
        f"{sum(len(v) for v in officials.values()):,} officials, {citizen_count:,} citizens"
    )

    times = _submission_times(options.applications, start, now, orgs[0], rng)
    cum_weights = list(accumulate(plan.weight for plan in plans))
    counters = {
        (org_id, year): last
        for org_id, year, last in TrackingCounter.objects.values_list(
            "organization_id", "year", "last"
        )
    }
    tables = _tables()
    app_ids = writer.next_ids(Application)
    simulator = Simulator(
        rng,
        now,
        step_ids=writer.next_ids(Step),
        event_ids=writer.next_ids(Event),
        attachment_ids=writer.next_ids(Attachment),
    )
    zones = {org.id: ZoneInfo(org.calendar.tz) for org in orgs}
    reported = time.perf_counter()
    for first in range(0, len(times), options.batch_size):
        batch: list[ApplicationRow] = []
        for stamp in times[first : first + options.batch_size]:
            plan = rng.choices(plans, cum_weights=cum_weights)[0]
            submitted = datetime.fromtimestamp(stamp, zones[plan.org.id])
            year = submitted.year % 100
            number = counters.get((plan.org.id, year), 0) + 1
            counters[(plan.org.id, year)] = number
            app = ApplicationRow(
                id=next(app_ids),
                plan=plan,
                tracking_no=f"{plan.org.prefix}-{year:02d}-{number:06d}",
                citizen_id=citizens.first_id + int(citizens.count * rng.random() ** 1.6),
                jurisdiction_id=rng.choice(plan.org.jurisdictions),
                channel=_channel(plan, submitted, rng),
                submitted_at=submitted,
            )
            simulator.walk(app)
            batch.append(app)
            _tally(summary, app, now)
        with transaction.atomic():
            _write(tables, batch, now)
        done = first + len(batch)
        if time.perf_counter() - reported > 5 or done == len(times):
            reported = time.perf_counter()
            elapsed = reported - started - summary.removing_seconds
            left = (len(times) - done) * elapsed / done
            say(
                f"  {done:>10,} / {len(times):,} applications  {done / elapsed:>7,.0f}/s  "
                f"{elapsed:>6.0f} s, about {left:.0f} s to go"
            )

    with transaction.atomic():
        for (org_id, year), last in counters.items():
            TrackingCounter.objects.update_or_create(
                organization_id=org_id, year=year, defaults={"last": last}
            )
        writer.reset_sequences([User, Posting, Application, Step, Event, Attachment])
    writer.analyze()
    summary.seconds = time.perf_counter() - started
    summary.written = {
        "users": citizen_count + sum(len(v) for v in officials.values()),
        "postings": sum(len(v) for v in officials.values()),
        **{name: table.count for name, table in tables.items()},
        "tracking counters": len(counters),
    }
    summary.totals = {
        name: model._default_manager.count()
        for name, model in (
            ("users", User),
            ("postings", Posting),
            ("applications", Application),
            ("steps", Step),
            ("events", Event),
            ("attachments", Attachment),
            ("tracking counters", TrackingCounter),
        )
    }
    return summary


def truncate() -> dict[str, int]:
    """Delete what the generator made: its people's applications (with their steps, events,
    documents, notifications, …) and its people; then set the tracking counters back to the
    numbers still in use."""
    quote = connection.ops.quote_name
    users = quote(User._meta.db_table)
    with transaction.atomic():
        applications = writer.purge(
            Application,
            f"{quote('citizen_id')} IN (SELECT {quote('id')} FROM {users} "  # noqa: S608
            f"WHERE {quote('phone')} LIKE %s)",
            [f"{CITIZEN_PREFIX}%"],
        )
        people = writer.purge(
            User,
            f"{quote('phone')} LIKE %s OR {quote('phone')} LIKE %s",
            [f"{CITIZEN_PREFIX}%", f"{OFFICIAL_PREFIX}%"],
        )
        last: dict[tuple[int, int], int] = {}
        for org_id, tracking_no in Application.objects.values_list(
            "organization_id", "tracking_no"
        ):
            _, year, number = tracking_no.rsplit("-", 2)
            key = (org_id, int(year))
            last[key] = max(last.get(key, 0), int(number))
        for counter in TrackingCounter.objects.all():
            kept = last.get((counter.organization_id, counter.year), 0)
            if counter.last != kept:
                TrackingCounter.objects.filter(pk=counter.pk).update(last=kept)
    return {"applications": applications, "users": people}


# Submissions --------------------------------------------------------------------------------


def _submission_times(
    count: int, start: datetime, now: datetime, org: OrgPlan, rng: random.Random
) -> "array[float]":
    """`count` submission instants between `start` and `now`, sorted: more in recent months
    (use grows), fewer on days off, mostly in the day."""
    zone = ZoneInfo(org.calendar.tz)
    first, last = start.astimezone(zone).date(), now.astimezone(zone).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    weights = [
        (0.6 + 0.8 * n / len(days)) * (1.0 if org.calendar.is_working_day(day) else 0.35)
        for n, day in enumerate(days)
    ]
    picked = rng.choices(range(len(days)), cum_weights=list(accumulate(weights)), k=count)
    hours = rng.choices(range(24), weights=HOURS, k=count)
    low, high = start.timestamp(), now.timestamp() - 60
    stamps = array("d")
    midnights = [_midnight(day, zone) for day in days]
    for day, hour in zip(picked, hours, strict=True):
        stamp = midnights[day] + hour * 3600 + rng.uniform(0, 3600)
        while not low <= stamp <= high:
            stamp = rng.uniform(max(low, high - 86_400), high) if stamp > high else stamp + 86_400
        stamps.append(stamp)
    return array("d", sorted(stamps))


def _midnight(day: date, zone: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()


def _channel(plan: ServicePlan, submitted: datetime, rng: random.Random) -> str:
    channels = COMPLAINT_CHANNELS if plan.complaint else APPLICATION_CHANNELS
    names = [name for name, _ in channels]
    weights = [weight for _, weight in channels]
    counter_open = 9 <= submitted.hour < 16 and plan.org.calendar.is_working_day(submitted.date())
    if not counter_open:
        weights[names.index("counter")] = 0
    return rng.choices(names, weights)[0]


# Writing ----------------------------------------------------------------------------------


def _tables() -> dict[str, writer.Table]:
    return {
        "applications": writer.Table(
            Application,
            [
                "id",
                "tracking_no",
                "citizen_id",
                "service_id",
                "process_id",
                "organization_id",
                "jurisdiction_id",
                "state",
                "category",
                "outcome",
                "channel",
                "data",
                "location",
                "current_step_id",
                "submitted_at",
                "updated_at",
                "closed_at",
                "due_at",
                "paused_at",
            ],
        ),
        "steps": writer.Table(
            Step,
            [
                "id",
                "application_id",
                "organization_id",
                "service_id",
                "state",
                "owner_role",
                "assignee_id",
                "entered_at",
                "due_at",
                "left_at",
                "working_time",
                "breached",
                "escalation_level",
                "escalate_at",
                "times_out_at",
            ],
        ),
        "events": writer.Table(
            Event,
            [
                "id",
                "application_id",
                "organization_id",
                "kind",
                "actor_id",
                "actor_role",
                "step_id",
                "from_state",
                "to_state",
                "action",
                "text",
                "visibility",
                "data",
                "created_at",
                "dispatched_at",
            ],
        ),
        "attachments": writer.Table(
            Attachment,
            [
                "id",
                "uuid",
                "uploaded_by_id",
                "application_id",
                "event_id",
                "requirement",
                "file",
                "filename",
                "content_type",
                "size",
                "sha256",
                "created_at",
            ],
        ),
    }


def _write(tables: dict[str, writer.Table], batch: Sequence[ApplicationRow], now: datetime) -> None:
    applications: list[tuple[Any, ...]] = []
    steps: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    attachments: list[tuple[Any, ...]] = []
    delay = timedelta(seconds=3)
    for app in batch:
        plan = app.plan
        current = app.current_step
        applications.append(
            (
                app.id, app.tracking_no, app.citizen_id, plan.id, plan.version_id,
                plan.org.id, app.jurisdiction_id, app.state, app.category, app.outcome,
                app.channel, app.data, app.location, current.id if current else None,
                app.submitted_at, app.updated_at, app.closed_at, app.due_at, app.paused_at,
            )
        )  # fmt: skip
        for s in app.steps:
            steps.append(
                (
                    s.id, app.id, plan.org.id, plan.id, s.state, s.owner_role,
                    s.assignee_id, s.entered_at, s.due_at, s.left_at, s.working_time,
                    s.breached, s.escalation_level,
                    s.escalate_at if s.left_at is None else None,
                    s.times_out_at if s.left_at is None else None,
                )
            )  # fmt: skip
        for e in app.events:
            events.append(
                (
                    e.id, app.id, plan.org.id, e.kind, e.actor_id, e.actor_role,
                    e.step.id if e.step else None, e.from_state, e.to_state, e.action,
                    e.text, e.visibility, e.data, e.created_at,
                    min(e.created_at + delay, now),
                )
            )  # fmt: skip
        for a in app.attachments:
            attachments.append(
                (
                    a.id, a.uuid, a.uploaded_by, app.id, a.event.id, a.requirement, a.file,
                    a.filename, a.content_type, a.size, a.sha256, a.created_at,
                )
            )  # fmt: skip
    tables["applications"].insert(applications)
    tables["steps"].insert(steps)
    tables["events"].insert(events)
    tables["attachments"].insert(attachments)


def _tally(summary: Summary, app: ApplicationRow, now: datetime) -> None:
    summary.categories[app.category] += 1
    current = app.current_step
    if current is not None and current.due_at is not None and current.due_at < now:
        summary.overdue_open += current.owner_role != "citizen"
    for step in app.steps:
        if step.left_at is not None:
            summary.steps_closed += 1
            summary.steps_breached += step.breached


# Placeholder files ------------------------------------------------------------------------

# A one-page PDF and a 1x1 PNG, so that a generated document opens in the browser.
_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        checksum = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xcc\xcc\xcc")
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _placeholders() -> None:
    for name, content in ((PLACEHOLDER_PDF, _PDF), (PLACEHOLDER_IMAGE, _png())):
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(content))
