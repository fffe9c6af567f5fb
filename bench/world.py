"""What the generator works with, read once: organizations, their services' processes and
calendars, the role charts, and the generated people (citizens and officials)."""

import dataclasses
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.contrib.auth.hashers import make_password

from bench import texts
from bench.writer import Table, next_ids
from ocsc.accounts.models import Posting, User
from ocsc.catalog.models import Jurisdiction, Organization, Role, Service
from ocsc.catalog.process import process_of, work_calendar
from ocsc.workflow import (
    CITIZEN,
    Action,
    Category,
    Duration,
    Process,
    RoleChart,
    WorkCalendar,
    category,
)
from ocsc.workflow import main_path as spec_main_path

# Generated people are told apart by their phone numbers: +92 309 NNNNNNN for citizens,
# +92 308 NNNNNNN for officials (the demo and the tests use other ranges).
CITIZEN_PREFIX = "+92309"
OFFICIAL_PREFIX = "+92308"
OFFICIAL_PASSWORD = "ocsc-bench-2026"  # noqa: S105 - generated officials, documented in README

# Rough centres of the districts, for points on the map.
CENTRES = {
    "kp-peshawar": (34.008, 71.578),
    "kp-charsadda": (34.148, 71.741),
    "kp-mardan": (34.198, 72.045),
    "kp-abbottabad": (34.168, 73.221),
    "kp-swat": (34.773, 72.360),
}
DEFAULT_CENTRE = (34.0, 71.6)

ActionKind = Literal["finish", "forward", "back", "return", "reject", "drop"]


@dataclass(frozen=True, slots=True)
class Official:
    id: int
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class Choice:
    """An owner's action of a step, how often it is taken, and what it does."""

    name: str
    to: str
    kind: ActionKind
    weight: float
    comment_required: bool


@dataclass(frozen=True)
class StepPlan:
    state: str
    owner: str  # a role, or citizen; "" on terminal steps
    category: Category
    terminal: bool
    outcome: str
    sla: Duration | None
    unit: Literal["d", "h"]
    requires: tuple[str, ...]
    fee: bool
    timeout: str | None  # the system's action when the timeline runs out
    timeout_to: str  # where it leads
    choices: tuple[Choice, ...]  # the owner's actions
    chain: tuple[str, ...]  # the owner's supervisors, nearest first
    distance: int  # steps to the nearest outcome (to force an end to long walks)
    breach_rate: float  # share of visits that break the timeline
    overrun: float  # mean lateness of a breach, in timelines
    bottleneck: bool


@dataclass(frozen=True)
class OrgPlan:
    id: int
    code: str
    prefix: str
    calendar: WorkCalendar
    chart: RoleChart
    officials: Mapping[str, tuple[Official, ...]]
    jurisdictions: tuple[int, ...]
    centre: tuple[float, float]


@dataclass(frozen=True)
class ServicePlan:
    id: int
    code: str
    complaint: bool
    org: OrgPlan
    version_id: int
    process: Process
    fee: tuple[str, str] | None  # amount, currency
    submission_documents: tuple[tuple[str, bool], ...]  # (code, required)
    fields: tuple[dict[str, Any], ...]
    location_field: str | None
    steps: Mapping[str, StepPlan]
    start: str
    weight: float  # relative share of all applications

    @property
    def label(self) -> str:
        return f"{self.org.code}/{self.code}"

    @property
    def bottlenecks(self) -> list[str]:
        return [code for code, step in self.steps.items() if step.bottleneck]


class MemoCalendar(WorkCalendar):
    """An organization's WorkCalendar that remembers which days are working days (the
    generator asks about the same few hundred days millions of times)."""

    _days: dict[date, bool]

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "_days", {})

    @classmethod
    def of(cls, calendar: WorkCalendar) -> "MemoCalendar":
        return cls(
            workweek=calendar.workweek,
            country=calendar.country,
            extra=calendar.extra,
            tz=calendar.tz,
        )

    def is_working_day(self, day: date) -> bool:
        if type(day) is not date:
            return super().is_working_day(day)
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = super().is_working_day(day)
        return known


# The catalog ------------------------------------------------------------------------------


def organizations(officials: Mapping[tuple[int, str], tuple[Official, ...]]) -> list[OrgPlan]:
    """Every organization, with its calendar, role chart, area and generated officials."""
    nodes = list(Jurisdiction.objects.values_list("id", "path"))
    plans: list[OrgPlan] = []
    for org in Organization.objects.select_related("calendar").prefetch_related("serves"):
        served = [j.path for j in org.serves.all()]
        area = tuple(pk for pk, path in nodes if any(path.startswith(p) for p in served))
        parts = served[0].split("/") if served else []
        district = parts[2] if len(parts) > 3 else ""
        roles = Role.objects.filter(kind=org.kind_id).values_list("code", "reports_to__code")
        plans.append(
            OrgPlan(
                id=org.pk,
                code=org.code,
                prefix=org.prefix,
                calendar=MemoCalendar.of(work_calendar(org.calendar)),
                chart=RoleChart(reports_to=dict(roles)),
                officials={
                    role: people for (org_id, role), people in officials.items() if org_id == org.pk
                },
                jurisdictions=area,
                centre=CENTRES.get(district, DEFAULT_CENTRE),
            )
        )
    return plans


def services(orgs: Sequence[OrgPlan], seed: int) -> list[ServicePlan]:
    """The active services with a process, each with its step plans. How big each
    organization is, how often each service is used and which steps are its bottlenecks
    follow from the seed alone."""
    by_id = {org.id: org for org in orgs}
    plans: list[ServicePlan] = []
    queryset = Service.objects.filter(active=True, current_process__isnull=False)
    for service in queryset.select_related("current_process").order_by("organization", "code"):
        version = service.current_process
        org = by_id.get(service.organization_id)
        if version is None or org is None or not org.jurisdictions:
            continue
        process = process_of(version)
        rng = random.Random(f"{seed}/{org.code}/{service.code}")
        org_size = random.Random(f"{seed}/{org.code}").uniform(0.5, 2.0)
        complaint = service.category == Service.Category.COMPLAINT
        later = {code for step in process.steps.values() for code in step.requires}
        location = next((f["key"] for f in service.fields if f.get("type") == "location"), None)
        fee = (
            (str(service.fee_amount), service.fee_currency)
            if service.fee_amount is not None
            else None
        )
        plans.append(
            ServicePlan(
                id=service.pk,
                code=service.code,
                complaint=complaint,
                org=org,
                version_id=version.pk,
                process=process,
                fee=fee,
                submission_documents=tuple(
                    (r["code"], bool(r.get("required", True)))
                    for r in service.requirements
                    if r["code"] not in later
                ),
                fields=tuple(service.fields),
                location_field=location,
                steps=_step_plans(process, org.chart, rng, complaint),
                start=process.start,
                weight=org_size * (3.0 if complaint else 1.0) * rng.uniform(0.4, 1.6),
            )
        )
    return plans


def _step_plans(
    process: Process, chart: RoleChart, rng: random.Random, complaint: bool
) -> dict[str, StepPlan]:
    steps = process.steps
    path = spec_main_path(process) or []
    position = {code: index for index, code in enumerate(path)}
    distance = _distances(process)
    staffed = [
        code
        for code, step in steps.items()
        if not step.terminal and step.owner not in (None, CITIZEN) and step.sla is not None
    ]
    count = 1 if len(staffed) <= 3 else 2
    bottlenecks = set(rng.sample(staffed, min(count, len(staffed))))
    plans: dict[str, StepPlan] = {}
    for code, step in steps.items():
        owner = step.owner or ""
        choices = _choices(code, step.actions, steps, position, owner == CITIZEN, complaint)
        bottleneck = code in bottlenecks
        plans[code] = StepPlan(
            state=code,
            owner=owner,
            category=category(process, code),
            terminal=step.terminal,
            outcome=step.outcome or "",
            sla=step.sla,
            unit=step.sla.unit if step.sla else "d",
            requires=step.requires,
            fee=step.fee,
            timeout=step.timeout.action if step.timeout else None,
            timeout_to=step.actions[step.timeout.action].to if step.timeout else "",
            choices=choices,
            chain=tuple(chart.chain(owner)) if owner and owner != CITIZEN else (),
            distance=distance.get(code, 99),
            breach_rate=rng.uniform(0.35, 0.55) if bottleneck else rng.uniform(0.02, 0.08),
            overrun=rng.uniform(1.0, 2.5) if bottleneck else rng.uniform(0.2, 0.6),
            bottleneck=bottleneck,
        )
    return plans


def _choices(
    state: str,
    actions: Mapping[str, Action],
    steps: Mapping[str, Any],
    position: Mapping[str, int],
    citizen: bool,
    complaint: bool,
) -> tuple[Choice, ...]:
    """The owner's actions, weighted: mostly along the main path, some returns for
    correction, rejections and loops back."""
    made: list[Choice] = []
    main_taken = False
    here = position.get(state, -1)
    for name, action in actions.items():
        if action.by != "owner":
            continue
        target = steps[action.to]
        kind: ActionKind
        if target.outcome in ("approved", "resolved"):
            kind = "finish"
        elif target.outcome == "rejected":
            kind = "reject"
        elif target.outcome == "withdrawn":
            kind = "drop"
        elif citizen:
            kind = "forward"  # a reply, a resubmission, a payment
        elif target.owner == CITIZEN:
            kind = "return"
        elif action.to in position and position[action.to] <= here:
            kind = "back"
        else:
            kind = "forward"
        if kind in ("finish", "forward"):
            on_path = citizen or position.get(action.to, -1) == here + 1
            weight = 1.0 if on_path and not main_taken else 0.2
            main_taken = main_taken or weight == 1.0
        else:
            weight = {
                "reject": 0.03 if complaint else 0.02,
                "drop": 0.01,
                "return": 0.09 if complaint else 0.07,
                "back": 0.05,
            }[kind]
        made.append(Choice(name, action.to, kind, weight, action.comment == "required"))
    if not main_taken:  # off the main path: the first way forward is still the usual one
        for index, choice in enumerate(made):
            if choice.kind in ("finish", "forward"):
                made[index] = dataclasses.replace(choice, weight=1.0)
                break
    return tuple(made)


def _distances(process: Process) -> dict[str, int]:
    """Steps from each state to the nearest terminal one (breadth first, backwards)."""
    back: dict[str, list[str]] = {}
    for code, step in process.steps.items():
        for action in step.actions.values():
            back.setdefault(action.to, []).append(code)
    distance = {code: 0 for code, step in process.steps.items() if step.terminal}
    frontier = list(distance)
    while frontier:
        nxt: list[str] = []
        for code in frontier:
            for before in back.get(code, []):
                if before not in distance:
                    distance[before] = distance[code] + 1
                    nxt.append(before)
        frontier = nxt
    return distance


# People -----------------------------------------------------------------------------------


def cnic(rng: random.Random) -> str:
    return f"{rng.randint(10000, 17399)}-{rng.randint(0, 9_999_999):07d}-{rng.randint(0, 9)}"


def person_name(rng: random.Random) -> str:
    first = rng.choice(texts.FEMALE if rng.random() < 0.45 else texts.MALE)
    return f"{first} {rng.choice(texts.FAMILY)}"


@dataclass(frozen=True)
class Citizens:
    first_id: int
    count: int


def make_citizens(count: int, rng: random.Random, joined_before: datetime) -> Citizens:
    """`count` citizens with unusable passwords (they sign in by SMS code)."""
    ids = next_ids(User)
    table = Table(User, ["id", "password", "phone", "name", "cnic", "language", "date_joined"])
    first = -1
    batch: list[tuple[Any, ...]] = []
    for number in range(count):
        pk = next(ids)
        if first < 0:
            first = pk
        card = cnic(rng) if rng.random() < 0.7 else ""
        language = rng.choices(("en", "ur", "ps"), (5, 4, 1))[0]
        joined = joined_before - timedelta(days=rng.uniform(0, 400))
        password = f"!{rng.getrandbits(160):040x}"  # what make_password(None) looks like
        phone = f"{CITIZEN_PREFIX}{number:07d}"
        batch.append((pk, password, phone, person_name(rng), card, language, joined))
        if len(batch) == 5_000:
            table.insert(batch)
            batch = []
    table.insert(batch)
    return Citizens(first_id=first, count=count)


def make_officials(
    per_role: int, rng: random.Random, since: datetime
) -> dict[tuple[int, str], tuple[Official, ...]]:
    """A few officials for every role of every organization (one head), posted for the whole
    organization; all share one password so that anyone can sign in as them."""
    user_ids, posting_ids = next_ids(User), next_ids(Posting)
    password = make_password(OFFICIAL_PASSWORD)
    users: list[tuple[Any, ...]] = []
    postings: list[tuple[Any, ...]] = []
    made: dict[tuple[int, str], tuple[Official, ...]] = {}
    number = 0
    orgs = Organization.objects.order_by("code").values_list("id", "kind_id", "prefix")
    roles = list(Role.objects.order_by("code").values_list("id", "kind_id", "code", "head"))
    for org_id, kind_id, prefix in orgs:
        for role_id, role_kind, code, head in roles:
            if role_kind != kind_id:
                continue
            people: list[Official] = []
            for _ in range(1 if head else rng.randint(max(1, per_role - 1), per_role + 1)):
                pk = next(user_ids)
                name = person_name(rng)
                users.append(
                    (pk, password, f"{OFFICIAL_PREFIX}{number:07d}", f"{name} ({prefix})", since)
                )
                postings.append((next(posting_ids), pk, org_id, role_id, since.date()))
                people.append(Official(pk, f"{name} ({prefix})", code))
                number += 1
            made[(org_id, code)] = tuple(people)
    Table(User, ["id", "password", "phone", "name", "date_joined"]).insert(users)
    Table(Posting, ["id", "user_id", "organization_id", "role_id", "starts_on"]).insert(postings)
    return made
