"""The SLA clock: working days on an organization's calendar (DESIGN.md §5).

A working day counts its full 24 local hours. Day arithmetic happens on the local wall clock
of the calendar's time zone; every datetime taken or returned is aware.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from .spec import Duration

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY = timedelta(days=1)
_ZERO = timedelta(0)


@cache
def _supported_countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


@lru_cache(maxsize=128)
def _country_holidays(country: str, year: int) -> Mapping[date, str]:
    return dict(holidays.country_holidays(country, years=year))


def _weekday(name: str) -> int:
    key = name.strip().lower()
    for number, day in enumerate(DAYS):
        if key in (day, _FULL[number]):
            return number
    raise ValueError(f"unknown day '{name}' in the work week: use {', '.join(DAYS)}")


def _date(value: str | date) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"'{value}' is a datetime: a holiday is a date")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"'{value}' is not a date: write YYYY-MM-DD") from None


@dataclass(frozen=True)
class WorkCalendar:
    workweek: frozenset[int]  # 0 = Monday
    country: str | None = "PK"  # national holidays from the `holidays` package
    extra: frozenset[date] = frozenset()  # the organization's own holidays
    tz: str = "Asia/Karachi"

    def __post_init__(self) -> None:
        if not self.workweek or not self.workweek <= frozenset(range(7)):
            raise ValueError("a work week is one or more days numbered 0 (Monday) to 6 (Sunday)")
        if self.country is not None and self.country not in _supported_countries():
            raise ValueError(f"no national holidays are known for the country '{self.country}'")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{self.tz}'") from None

    @classmethod
    def from_spec(
        cls,
        *,
        workweek: Sequence[str],
        country_holidays: str | None,
        extra: Sequence[str | date] = (),
        timezone: str = "Asia/Karachi",
    ) -> "WorkCalendar":
        """A calendar from catalog values: ``workweek: [mon, tue, ...]``, ISO dates."""
        return cls(
            workweek=frozenset(_weekday(name) for name in workweek),
            country=country_holidays or None,
            extra=frozenset(_date(value) for value in extra),
            tz=timezone,
        )

    # -- days

    def holiday_name(self, day: date) -> str | None:
        day = self._day(day)
        if self.country is not None:
            name = _country_holidays(self.country, day.year).get(day)
            if name is not None:
                return name
        return "Organization holiday" if day in self.extra else None

    def is_working_day(self, day: date) -> bool:
        day = self._day(day)
        return day.weekday() in self.workweek and self.holiday_name(day) is None

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local time on the `days`-th working day after `start`; a start on a day
        off counts from 00:00 of the next working day."""
        if days < 0:
            raise ValueError("days must not be negative")
        wall = self._wall(start)
        day = wall.date()
        if not self.is_working_day(day):
            day = self._next_working_day(day)
            wall = _midnight(day)
        for _ in range(days):
            day = self._next_working_day(day)
        return self._unwall(datetime.combine(day, wall.timetz()))

    def due_at(self, start: datetime, sla: Duration) -> datetime:
        if sla.unit == "d":
            return self.add_working_days(start, sla.amount)
        return self._local(start + timedelta(hours=sla.amount))

    # -- working time

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """The time between the two instants that falls on working days."""
        wall, wall_end = self._wall(start), self._wall(end)
        total = _ZERO
        day = wall.date()
        while wall < wall_end:
            next_midnight = _midnight(day + _DAY)
            if self.is_working_day(day):
                total += min(wall_end, next_midnight) - wall
            wall, day = next_midnight, day + _DAY
        return total

    def add_working_time(self, start: datetime, delta: timedelta) -> datetime:
        """The earliest instant `end` with ``working_time(start, end) == delta``."""
        if delta < _ZERO:
            raise ValueError("the working time to add must not be negative")
        wall = self._wall(start)
        if not delta:
            return self._local(start)
        day = wall.date()
        while True:
            if self.is_working_day(day):
                left_today = _midnight(day + _DAY) - wall
                if delta <= left_today:
                    return self._unwall(wall + delta)
                delta -= left_today
            day += _DAY
            wall = _midnight(day)

    def elapsed(self, start: datetime, end: datetime, unit: Literal["d", "h"]) -> timedelta:
        """Time counted against a timeline of `unit`: working time for d, clock time for h."""
        if unit == "d":
            return self.working_time(start, end)
        return max(_ZERO, self._local(end) - self._local(start))

    def extend(
        self, due: datetime, paused_from: datetime, paused_to: datetime, unit: Literal["d", "h"]
    ) -> datetime:
        """The due instant after the organization's clock paused between the two instants
        (the citizen held the application). A pause starting at or after `due` changes nothing:
        the timeline was already breached.

        In days, the working time left at the pause is counted again from its end; like
        add_working_days, a timeline that runs out at the end of a working day falls due when
        the next working day begins."""
        if paused_from >= due or paused_to <= paused_from:
            return self._local(due)
        if unit == "h":
            return self._local(due + (paused_to - paused_from))
        new_due = self.add_working_time(paused_to, self.working_time(paused_from, due))
        wall = self._wall(new_due)
        if wall == _midnight(wall.date()) and not self.is_working_day(wall.date()):
            new_due = self._unwall(_midnight(self._next_working_day(wall.date())))
        return max(self._local(due), new_due)

    # -- helpers

    def _day(self, day: date) -> date:
        return self._wall(day).date() if isinstance(day, datetime) else day

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{moment} is a naive datetime: give an aware one")
        return moment.astimezone(ZoneInfo(self.tz))

    def _wall(self, moment: datetime) -> datetime:
        # The local wall clock, held as UTC so that every day has exactly 24 hours.
        return self._local(moment).replace(tzinfo=UTC)

    def _unwall(self, wall: datetime) -> datetime:
        zone = ZoneInfo(self.tz)
        return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)

    def _next_working_day(self, day: date) -> date:
        day += _DAY
        while not self.is_working_day(day):
            day += _DAY
        return day


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(tzinfo=UTC))
