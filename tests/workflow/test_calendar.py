from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ocsc.workflow import Duration, WorkCalendar

PKT = ZoneInfo("Asia/Karachi")
TMA = WorkCalendar.from_spec(workweek=["mon", "tue", "wed", "thu", "fri"], country_holidays="PK")


def at(moment: str) -> datetime:
    """A local Pakistan time, '2026-01-08 16:00'."""
    return datetime.fromisoformat(moment).replace(tzinfo=PKT)


def test_from_spec() -> None:
    calendar = WorkCalendar.from_spec(
        workweek=["Sun", "monday", "tue", "wed", "thu"],
        country_holidays=None,
        extra=["2026-01-14", date(2026, 2, 1)],
        timezone="Asia/Dubai",
    )
    assert calendar == WorkCalendar(
        workweek=frozenset({6, 0, 1, 2, 3}),
        country=None,
        extra=frozenset({date(2026, 1, 14), date(2026, 2, 1)}),
        tz="Asia/Dubai",
    )
    hash(calendar)  # frozen and hashable


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workweek": ["mon", "fry"]}, "unknown day 'fry' in the work week"),
        ({"workweek": []}, "a work week is one or more days"),
        ({"workweek": ["mon"], "extra": ["14/08/2026"]}, "'14/08/2026' is not a date"),
        ({"workweek": ["mon"], "country_holidays": "XX"}, "no national holidays are known"),
        ({"workweek": ["mon"], "timezone": "Asia/Lahore"}, "unknown time zone"),
    ],
)
def test_from_spec_refuses_mistakes(kwargs: dict[str, object], message: str) -> None:
    kwargs.setdefault("country_holidays", "PK")
    with pytest.raises(ValueError, match=message):
        WorkCalendar.from_spec(**kwargs)  # type: ignore[arg-type]


def test_days() -> None:
    assert TMA.is_working_day(date(2026, 8, 13))
    assert not TMA.is_working_day(date(2026, 8, 14))  # Independence Day, a Friday
    assert not TMA.is_working_day(date(2026, 8, 15))  # Saturday
    assert TMA.holiday_name(date(2026, 8, 14)) == "Independence Day"
    assert TMA.holiday_name(date(2026, 8, 15)) is None
    assert TMA.holiday_name(date(2026, 12, 25)) == "Quaid-e-Azam Day"
    assert TMA.holiday_name(date(2026, 5, 27)) == "Eid-ul-Adha"
    own = WorkCalendar(workweek=TMA.workweek, extra=frozenset({date(2026, 1, 14)}))
    assert own.holiday_name(date(2026, 1, 14)) == "Organization holiday"
    assert not own.is_working_day(date(2026, 1, 14))


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        ("2026-01-08 16:00", 2, "2026-01-12 16:00"),  # Thursday + 2 → Monday, over the weekend
        ("2026-01-08 16:00", 0, "2026-01-08 16:00"),
        ("2026-08-13 10:00", 1, "2026-08-17 10:00"),  # Fri 14 Aug is Independence Day
        ("2026-12-24 10:00", 1, "2026-12-28 10:00"),  # Fri 25 Dec is Quaid-e-Azam Day
        ("2026-05-25 12:00", 1, "2026-05-29 12:00"),  # Eid-ul-Adha, Tue 26 – Thu 28 May
        ("2026-03-19 09:00", 1, "2026-03-24 09:00"),  # Eid-ul-Fitr Fri 20, Pakistan Day Mon 23
        ("2026-01-10 15:00", 0, "2026-01-12 00:00"),  # Saturday: the clock starts on Monday
        ("2026-01-10 15:00", 1, "2026-01-13 00:00"),
        ("2026-08-14 11:00", 1, "2026-08-18 00:00"),  # entered on the holiday itself
    ],
)
def test_add_working_days(start: str, days: int, due: str) -> None:
    result = TMA.add_working_days(at(start), days)
    assert result == at(due)
    assert result.tzinfo == PKT


def test_add_working_days_takes_any_time_zone() -> None:
    start = datetime(2026, 1, 8, 11, 0, tzinfo=UTC)  # 16:00 in Pakistan
    assert TMA.add_working_days(start, 2) == datetime(2026, 1, 12, 11, 0, tzinfo=UTC)
    assert str(TMA.add_working_days(start, 2)) == "2026-01-12 16:00:00+05:00"


def test_an_organization_holiday_counts() -> None:
    own = WorkCalendar(workweek=TMA.workweek, extra=frozenset({date(2026, 1, 14)}))
    assert own.add_working_days(at("2026-01-13 10:00"), 1) == at("2026-01-15 10:00")


def test_a_friday_saturday_weekend() -> None:
    gulf = WorkCalendar.from_spec(
        workweek=["sun", "mon", "tue", "wed", "thu"], country_holidays=None
    )
    assert gulf.add_working_days(at("2026-01-08 10:00"), 1) == at("2026-01-11 10:00")
    assert gulf.is_working_day(date(2026, 1, 11))


def test_hours_are_clock_hours() -> None:
    assert TMA.due_at(at("2026-01-09 20:00"), Duration.model_validate("24h")) == at(
        "2026-01-10 20:00"
    )  # a Friday evening: due on Saturday
    assert TMA.due_at(at("2026-08-13 22:00"), Duration.model_validate("4h")) == at(
        "2026-08-14 02:00"
    )  # into a holiday


def test_due_at_in_days() -> None:
    assert TMA.due_at(at("2026-08-13 10:00"), Duration.model_validate("2d")) == at(
        "2026-08-18 10:00"
    )


def test_naive_datetimes_are_refused() -> None:
    naive = datetime.fromisoformat("2026-01-08 16:00")
    with pytest.raises(ValueError, match="naive"):
        TMA.add_working_days(naive, 1)
    with pytest.raises(ValueError, match="naive"):
        TMA.working_time(naive, at("2026-01-09 16:00"))


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2026-01-08 16:00", "2026-01-12 16:00", 48),  # Thursday to Monday
        ("2026-01-09 10:00", "2026-01-12 10:00", 24),  # Friday 14h + Monday 10h
        ("2026-01-10 10:00", "2026-01-11 20:00", 0),  # within a weekend
        ("2026-08-13 10:00", "2026-08-17 10:00", 24),  # across Independence Day
        ("2026-01-12 16:00", "2026-01-08 16:00", 0),  # backwards
    ],
)
def test_working_time(start: str, end: str, hours: int) -> None:
    assert TMA.working_time(at(start), at(end)) == timedelta(hours=hours)
    assert TMA.elapsed(at(start), at(end), "d") == timedelta(hours=hours)


def test_elapsed_in_hours_is_clock_time() -> None:
    assert TMA.elapsed(at("2026-01-09 20:00"), at("2026-01-10 20:00"), "h") == timedelta(hours=24)
    assert TMA.elapsed(at("2026-01-10 20:00"), at("2026-01-09 20:00"), "h") == timedelta(0)


def test_add_working_time() -> None:
    friday = at("2026-01-09 20:00")
    assert TMA.add_working_time(friday, timedelta(hours=6)) == at("2026-01-12 02:00")
    assert TMA.add_working_time(friday, timedelta(hours=4)) == at("2026-01-10 00:00")
    saturday = at("2026-01-10 12:00")
    assert TMA.add_working_time(saturday, timedelta(0)) == saturday
    assert TMA.add_working_time(saturday, timedelta(minutes=1)) == at("2026-01-12 00:01")
    with pytest.raises(ValueError, match="negative"):
        TMA.add_working_time(saturday, timedelta(hours=-1))


def test_extend_in_days_reapplies_the_remaining_working_time() -> None:
    # Due Monday 16:00; the citizen held it from Friday 10:00 to Tuesday 09:00.
    # Left at the pause: Friday 14h + Monday 16h = 30h, from Tuesday 09:00 → Wednesday 15:00.
    due = TMA.extend(at("2026-01-12 16:00"), at("2026-01-09 10:00"), at("2026-01-13 09:00"), "d")
    assert due == at("2026-01-14 15:00")


def test_extend_in_hours_shifts_by_the_pause() -> None:
    due = TMA.extend(at("2026-01-09 12:00"), at("2026-01-09 08:00"), at("2026-01-10 10:00"), "h")
    assert due == at("2026-01-10 14:00")


def test_extend_after_a_breach_keeps_the_due_instant() -> None:
    due = at("2026-01-09 12:00")
    assert TMA.extend(due, at("2026-01-09 13:00"), at("2026-01-12 10:00"), "d") == due
    assert TMA.extend(due, at("2026-01-09 13:00"), at("2026-01-12 10:00"), "h") == due


def test_extend_never_falls_due_at_the_start_of_a_day_off() -> None:
    # Entered on Saturday with 2d: due when Wednesday begins (Monday and Tuesday count).
    due = TMA.add_working_days(at("2026-01-10 15:00"), 2)
    assert due == at("2026-01-14 00:00")
    # The citizen held it from Sunday until Thursday began: Thursday and Friday count again,
    # and the timeline runs out as the weekend begins, so it falls due on Monday.
    extended = TMA.extend(due, at("2026-01-11 12:00"), at("2026-01-15 00:00"), "d")
    assert extended == at("2026-01-19 00:00")
