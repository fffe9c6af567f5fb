"""The head's figures on a small hand-built history with known answers."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from ocsc.cases.actions import take_action
from ocsc.cases.models import Application
from ocsc.catalog.models import Organization
from ocsc.insights.queries import (
    Period,
    bottlenecks,
    expected_completion,
    headline,
    people,
    percentile,
    stalled,
    totals,
    typical_step_times,
)
from tests.personas import People, upload, water_connection

pytestmark = pytest.mark.django_db
PKT = ZoneInfo("Asia/Karachi")
MON = datetime(2026, 12, 7, 9, 0, tzinfo=PKT)  # Monday 7 December 2026 (postings start 4 Dec)
NOW = MON + timedelta(days=11)  # Friday 18 December, 09:00


def at(moment: datetime, work: object) -> object:
    with time_machine.travel(moment, tick=False):
        return work() if callable(work) else work


def reread(application: Application) -> Application:
    return Application.objects.select_related("current_step", "organization", "service").get(
        pk=application.pk
    )


@pytest.fixture
def history(people: People) -> dict[str, Application]:
    """Three applications for a water connection in TMA Mardan:
    fast: scrutiny 1 working day, inspection 2, approval 1 (then waits for the fee);
    late: scrutiny 3 working days (timeline 2: breached), still at the inspection, overdue;
    returned: scrutiny sent it back to the citizen after 1 working day; the citizen is silent.
    """
    fast = at(MON, lambda: water_connection(people))
    late = at(MON, lambda: water_connection(people))
    returned = at(MON, lambda: water_connection(people))
    at(MON + timedelta(days=1), lambda: take_action(fast, actor=people.kamran, action="forward"))
    report = at(MON + timedelta(days=3), lambda: upload(people.sana))
    at(
        MON + timedelta(days=3),
        lambda: take_action(
            reread(fast),
            actor=people.sana,
            action="recommend",
            documents={"inspection_report": report},
        ),
    )
    at(
        MON + timedelta(days=4),
        lambda: take_action(reread(fast), actor=people.imran, action="approve"),
    )
    at(
        MON + timedelta(days=3),
        lambda: take_action(reread(late), actor=people.kamran, action="forward"),
    )
    at(
        MON + timedelta(days=1),
        lambda: take_action(returned, actor=people.kamran, action="return", comment="Blurred CNIC"),
    )
    return {"fast": fast, "late": late, "returned": returned}  # type: ignore[dict-item]


def test_percentiles_interpolate_like_percentile_cont() -> None:
    assert percentile([], 50) is None
    assert percentile([4.0], 90) == 4.0
    assert percentile([1.0, 3.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 90) == pytest.approx(3.7)


def test_bottlenecks_pin_time_in_step_breaches_and_returns(history: dict[str, Application]) -> None:
    org = Organization.objects.get(code="tma-mardan").pk
    with time_machine.travel(NOW, tick=False):
        steps = {s.state: s for s in bottlenecks([org], Period.last_days(30))}

    scrutiny = steps["scrutiny"]
    assert (scrutiny.visits, scrutiny.breached, scrutiny.returns) == (3, 1, 1)
    assert sorted(scrutiny.times) == [1.0, 1.0, 3.0]  # working days
    assert (scrutiny.median, scrutiny.breach_share) == (1.0, pytest.approx(1 / 3))
    inspection = steps["site_inspection"]
    # fast left it after 2 working days; late has been there since Thursday 10 Dec (due Tue 15)
    assert (inspection.open, inspection.overdue, inspection.visits) == (1, 1, 1)
    assert inspection.times == [2.0]
    assert list(steps)[0] == "site_inspection"  # the worst (most overdue) first
    assert "payment" not in steps and "correction" not in steps  # citizen steps are not shown


def test_headline_counts_received_open_and_overdue(history: dict[str, Application]) -> None:
    org = Organization.objects.get(code="tma-mardan").pk
    with time_machine.travel(NOW, tick=False):
        [water] = headline([org], Period.last_days(30))
    assert (water.code, water.received, water.open, water.overdue, water.completed) == (
        "water-connection",
        3,
        3,
        1,
        0,
    )


def test_people_show_work_per_official_and_role(history: dict[str, Application]) -> None:
    org = Organization.objects.get(code="tma-mardan").pk
    with time_machine.travel(NOW, tick=False):
        by_person, by_role = people([org], Period.last_days(30))
    roles = {w.key: w for w in by_role}
    assert (roles["clerk"].completed, roles["clerk"].median_hours) == (3, 24.0)
    assert (roles["sub_engineer"].open, roles["sub_engineer"].overdue) == (1, 1)
    kamran = next(w for w in by_person if w.key == "Kamran Ali")
    assert kamran.completed == 3


def test_stalled_lists_applications_without_news(history: dict[str, Application]) -> None:
    org = Organization.objects.get(code="tma-mardan").pk
    with time_machine.travel(NOW, tick=False):
        silent = {a.tracking_no for a in stalled([org], days=5)}
    # late: last event Thu 10 Dec; returned: Tue 8 Dec; fast: approved Fri 11 Dec (5 working
    # days before Fri 18 Dec is Fri 11 Dec 09:00, and its last event is at that very instant).
    assert silent == {history["late"].tracking_no, history["returned"].tracking_no}


def test_expected_completion_adds_the_usual_time_of_the_remaining_steps(
    history: dict[str, Application],
) -> None:
    with time_machine.travel(NOW, tick=False):
        late = reread(history["late"])
        [when] = expected_completion([late]).values()
    # Inspection usually takes 2 working days and late has spent 6 in it (counted as done),
    # then approval 1 (as fast took), payment check 1 and installation 5 (their timelines: no
    # history yet): 7 working days from Fri 18 Dec, with Quaid-e-Azam Day (25 Dec) off.
    assert when is not None and when.astimezone(PKT) == datetime(2026, 12, 30, 9, 0, tzinfo=PKT)


def test_typical_step_times_are_medians_of_the_years_visits(
    history: dict[str, Application],
) -> None:
    water = history["fast"].service_id
    with time_machine.travel(NOW, tick=False):
        typical = typical_step_times([water], NOW - timedelta(days=365))
        only = typical_step_times([water], NOW - timedelta(days=365), states=["approval"])
        later = typical_step_times([water], MON + timedelta(days=2))
    # scrutiny took 1, 3 and 1 working days; the inspection 2; the approval 1
    assert typical == {
        (water, "scrutiny"): timedelta(days=1),
        (water, "site_inspection"): timedelta(days=2),
        (water, "approval"): timedelta(days=1),
    }
    assert only == {(water, "approval"): timedelta(days=1)}
    # since Wednesday: the scrutiny that ended on Thursday (3 days), the inspection, the approval
    assert later[(water, "scrutiny")] == timedelta(days=3)


def test_totals_give_a_monitor_the_headline_of_each_organization(
    history: dict[str, Application],
) -> None:
    mardan, takht_bhai = (
        Organization.objects.get(code=code).pk for code in ("tma-mardan", "tma-takht-bhai")
    )
    with time_machine.travel(NOW, tick=False):
        found = totals([mardan, takht_bhai], Period.last_days(30))
        services = headline([mardan], Period.last_days(30))
    row = found[mardan]
    assert (row.received, row.open, row.overdue, row.completed, row.on_time) == (3, 3, 1, 0, 0)
    assert row.received == sum(s.received for s in services)
    assert row.on_time_share is None
    assert (found[takht_bhai].received, found[takht_bhai].open) == (0, 0)
