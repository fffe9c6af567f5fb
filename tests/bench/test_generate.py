"""The benchmark generator: a small run, and the invariants the dashboards rely on."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from pytest_django import DjangoDbBlocker

from bench.run import Options, Summary, generate
from bench.world import CITIZEN_PREFIX, OFFICIAL_PREFIX
from ocsc.accounts.models import Posting, User
from ocsc.cases.models import (
    CLOSED,
    WITHDRAWN,
    Application,
    Attachment,
    Event,
    Step,
    TrackingCounter,
)
from ocsc.catalog.models import Role
from ocsc.catalog.process import process_of
from ocsc.notify.timers import _open_steps, escalation_due
from ocsc.workflow import CITIZEN, Category, RoleChart, category
from tests.conftest import KP_CATALOG

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
OPTIONS = Options(applications=200, seed=7, years=0.25, catalog=KP_CATALOG, now=NOW)
MOVES = {
    Event.Kind.SUBMITTED,
    Event.Kind.ACTION,
    Event.Kind.RESUBMITTED,
    Event.Kind.WITHDRAWN,
}


@pytest.fixture(scope="module")
def generated(
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Summary]:
    """One run for the module's tests (each test then runs in its own savepoint)."""
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        yield generate(OPTIONS, say=lambda line: None)
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _in_a_savepoint(db: None) -> None:
    """Each test sees the module's data, and leaves it as it found it."""


def snapshot() -> list[tuple[Any, ...]]:
    return list(
        Application.objects.order_by("tracking_no").values_list(
            "tracking_no", "state", "category", "submitted_at", "closed_at", "due_at"
        )
    )


def test_it_writes_what_it_reports(generated: Summary) -> None:
    assert generated.written["applications"] == Application.objects.count() == 200
    assert generated.written["steps"] == Step.objects.count()
    assert generated.written["events"] == Event.objects.count()
    assert generated.written["attachments"] == Attachment.objects.count() > 0
    assert User.objects.filter(phone__startswith=CITIZEN_PREFIX).count() == 40
    officials = User.objects.filter(phone__startswith=OFFICIAL_PREFIX)
    # every role of every organization is held
    held = set(Posting.objects.values_list("organization__kind", "role__code").distinct())
    assert held == set(Role.objects.values_list("kind", "code"))
    assert officials.count() == Posting.objects.count()
    # a realistic mix: each outcome, and work still open, some of it late
    assert set(generated.categories) == {c.value for c in Category}
    assert generated.overdue_open > 0
    assert 0 < generated.steps_breached < generated.steps_closed / 2
    assert not Event.objects.filter(dispatched_at=None).exists()


def test_steps_follow_one_another(generated: Summary) -> None:
    steps: dict[int, list[Step]] = defaultdict(list)
    for step in Step.objects.order_by("entered_at", "pk"):
        steps[step.application_id].append(step)
    for app in Application.objects.all():
        visits = steps[app.pk]
        still = [s for s in visits if s.left_at is None]
        if app.category in CLOSED:
            assert still == [] and app.current_step_id is None and app.closed_at is not None
        else:
            assert len(still) == 1 and app.current_step_id == still[0].pk, app.tracking_no
            assert visits[-1] == still[0]
            assert app.closed_at is None
        for before, after in zip(visits, visits[1:], strict=False):
            assert before.left_at is not None and before.left_at <= after.entered_at
        for step in visits:
            if step.left_at is None:
                assert not step.breached and step.working_time is None
                continue
            assert step.left_at >= step.entered_at and step.working_time is not None
            assert step.working_time <= step.left_at - step.entered_at
            assert step.breached == (step.due_at is not None and step.left_at > step.due_at)


def test_open_steps_wait_for_their_next_escalation_or_timeout_as_the_timers_leave_them(
    generated: Summary,
) -> None:
    """An official's open step is due to escalate (`escalate_at`) when its next level's time
    comes, as the timers would have left it; at the top of its chain, never. A citizen's
    times out (`times_out_at`) at its due time if its process step has a timeout."""
    charts: dict[int, dict[str, str | None]] = defaultdict(dict)
    for kind_id, code, boss in Role.objects.values_list("kind_id", "code", "reports_to__code"):
        charts[kind_id][code] = boss
    waiting = armed = 0
    for step in _open_steps().exclude(owner_role=CITIZEN):
        chart = RoleChart(reports_to=charts[step.application.organization.kind_id])
        height = len(chart.chain(step.owner_role))
        level = step.escalation_level
        expected = escalation_due(step, level + 1) if level < height else None
        assert step.escalate_at == expected, (step.pk, level, height)
        waiting += 1
        armed += expected is not None
    assert waiting > armed > 0  # some have reached the top of their chain
    timing_out = 0
    for step in _open_steps().filter(owner_role=CITIZEN):
        spec = process_of(step.application.process).steps[step.state]
        assert step.times_out_at == (step.due_at if spec.timeout else None), step.pk
        timing_out += step.times_out_at is not None
    assert timing_out > 0


def test_steps_and_events_carry_their_applications_organization(generated: Summary) -> None:
    owner = {
        pk: (org, service)
        for pk, org, service in Application.objects.values_list(
            "pk", "organization_id", "service_id"
        )
    }
    steps = Step.objects.values_list("application_id", "organization_id", "service_id")
    assert {(owner[app] == (org, service)) for app, org, service in steps} == {True}
    events = Event.objects.values_list("application_id", "organization_id")
    assert {owner[app][0] == org for app, org in events} == {True}
    assert len({org for org, _ in owner.values()}) > 1  # more than one to tell apart


def test_states_and_categories_agree(generated: Summary) -> None:
    for app in Application.objects.select_related("process", "current_step"):
        process = process_of(app.process)
        if app.state == WITHDRAWN:
            assert app.category == Category.CLOSED_WITHDRAWN and app.outcome == "withdrawn"
            continue
        assert app.category == category(process, app.state), app.tracking_no
        assert app.outcome == (process.steps[app.state].outcome or "")
        waiting = app.category == Category.WAITING_CITIZEN
        assert (app.paused_at is not None) == waiting
        if app.current_step is not None:
            assert app.current_step.state == app.state
            assert (app.current_step.owner_role == CITIZEN) == waiting


def test_tracking_numbers_are_gap_free_per_organization_and_year(generated: Summary) -> None:
    numbers: dict[tuple[int, int], list[int]] = defaultdict(list)
    in_order = Application.objects.order_by("submitted_at", "pk")
    for org_id, tracking_no in in_order.values_list("organization_id", "tracking_no"):
        _, year, number = tracking_no.rsplit("-", 2)
        numbers[(org_id, int(year))].append(int(number))
    counters = {
        (c.organization_id, c.year): c.last for c in TrackingCounter.objects.filter(last__gt=0)
    }
    assert counters == {key: len(found) for key, found in numbers.items()}
    for found in numbers.values():
        assert found == list(range(1, len(found) + 1))  # sequential in submission order


def test_the_timeline_chains_from_state_to_state(generated: Summary) -> None:
    step_owner = dict(Step.objects.values_list("pk", "application_id"))
    events: dict[int, list[Event]] = defaultdict(list)
    for event in Event.objects.order_by("pk"):
        events[event.application_id].append(event)
    for app in Application.objects.select_related("process"):
        timeline = events[app.pk]
        times = [event.created_at for event in timeline]
        assert times == sorted(times), app.tracking_no  # read by id, in time order
        assert all(step_owner[e.step_id] == app.pk for e in timeline if e.step_id is not None)
        moves = [event for event in timeline if event.kind in MOVES]
        assert moves[0].kind == Event.Kind.SUBMITTED
        assert moves[0].to_state == process_of(app.process).start
        for before, after in zip(moves, moves[1:], strict=False):
            assert after.from_state == before.to_state, app.tracking_no
        assert moves[-1].to_state == app.state
        assert app.submitted_at == moves[0].created_at


def test_the_same_seed_makes_the_same_data_again(generated: Summary) -> None:
    first = snapshot()
    again = generate(Options(**{**OPTIONS.__dict__, "truncate": True}), say=lambda line: None)
    assert again.removed == {"applications": 200, "users": 40 + Posting.objects.count()}
    assert snapshot() == first
