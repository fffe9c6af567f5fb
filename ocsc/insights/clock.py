"""Working time of many intervals on one calendar, for figures over thousands of rows.

`WorkCalendar.working_time` walks an interval day by day: right for one application, slow
for the ten thousand a head's period closes. `WorkingTime` counts the calendar's working
days once (a running count per day), so each interval then costs a few operations however
long it is. The result is the same timedelta, to the microsecond."""

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from ocsc.workflow import WorkCalendar

SECOND = 1_000_000  # in microseconds
DAY = 86_400 * SECOND
ZERO = timedelta(0)
MARGIN = 366  # days counted beyond those asked for, so that the next intervals fit
LONGEST = 20 * 366  # longer intervals (none real) are left to the day-by-day walk


def _since_midnight(moment: datetime) -> int:
    """Microseconds since the wall clock's midnight."""
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * SECOND + moment.microsecond


class WorkingTime:
    """`working_time(start, end)` of one WorkCalendar: the time between the two instants that
    falls on working days, a working day counting its full 24 hours of local wall clock."""

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self.zone = ZoneInfo(calendar.tz)
        # (the ordinal of the first day counted, before) where before[i] is the number of
        # working days in [first, first + i). Replaced whole, never changed in place, so that
        # threads sharing the object each read a consistent pair.
        self.days: tuple[int, list[int]] = (0, [0])

    def _counted(self, low: int, high: int) -> tuple[int, list[int]]:
        """The running count, covering every day from ordinal `low` to `high`."""
        first, before = days = self.days
        if first <= low and high < first + len(before) - 1:
            return days
        if len(before) > 1:
            low, high = min(low, first), max(high, first + len(before) - 2)
        first, before = low - MARGIN, [0]
        for ordinal in range(first, high + MARGIN + 1):
            before.append(before[-1] + self.calendar.is_working_day(date.fromordinal(ordinal)))
        self.days = (first, before)
        return self.days

    def __call__(self, start: datetime, end: datetime) -> timedelta:
        wall, wall_end = start.astimezone(self.zone), end.astimezone(self.zone)
        low, high = wall.toordinal(), wall_end.toordinal()
        since, until = _since_midnight(wall), _since_midnight(wall_end)
        if low > high or (low == high and since >= until):
            return ZERO
        if high - low > LONGEST:
            return self.calendar.working_time(start, end)
        first, before = self._counted(low, high)
        low_works = before[low - first + 1] > before[low - first]
        if low == high:
            return timedelta(microseconds=until - since) if low_works else ZERO
        total = DAY * (before[high - first] - before[low + 1 - first])
        if low_works:
            total += DAY - since
        if before[high - first + 1] > before[high - first]:
            total += until
        return timedelta(microseconds=total)


@lru_cache(maxsize=64)
def working_time_on(calendar: WorkCalendar) -> WorkingTime:
    """One counter per calendar (organizations often share one), kept between requests."""
    return WorkingTime(calendar)
