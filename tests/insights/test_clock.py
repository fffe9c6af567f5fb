"""The dashboards' working-time counter agrees with the SLA calendar, to the microsecond."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ocsc.insights.clock import WorkingTime
from ocsc.workflow import WorkCalendar

MANY = settings(max_examples=400, deadline=None)
PAKISTAN = WorkCalendar.from_spec(
    workweek=["mon", "tue", "wed", "thu", "fri"],
    country_holidays="PK",
    extra=[date(2026, 3, 3), date(2026, 12, 24)],
)
# A zone that moves its clocks: days of 23 and 25 hours, wall-clock times that repeat.
LONDON = WorkCalendar.from_spec(
    workweek=["mon", "tue", "wed", "thu", "fri", "sat"],
    country_holidays="GB",
    timezone="Europe/London",
)
instants = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - made aware by timezones=
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
spans = st.one_of(
    st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=2)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
)


@MANY
@given(start=instants, span=spans, calendar=st.sampled_from([PAKISTAN, LONDON]))
def test_it_counts_what_the_calendar_counts(
    start: datetime, span: timedelta, calendar: WorkCalendar
) -> None:
    counter = WorkingTime(calendar)
    assert counter(start, start + span) == calendar.working_time(start, start + span)


def test_it_reuses_its_count_and_extends_it_both_ways() -> None:
    counter = WorkingTime(PAKISTAN)
    middle = datetime(2026, 6, 1, 5, 30, tzinfo=UTC)
    assert counter(middle, middle + timedelta(days=9)) == PAKISTAN.working_time(
        middle, middle + timedelta(days=9)
    )
    counted = counter.days
    assert counter(middle, middle + timedelta(days=20)) == PAKISTAN.working_time(
        middle, middle + timedelta(days=20)
    )
    assert counter.days is counted  # within the margin: not counted again
    for start, end in [
        (middle - timedelta(days=900), middle),
        (middle, middle + timedelta(days=900)),
    ]:
        assert counter(start, end) == PAKISTAN.working_time(start, end)
    first, before = counter.days
    assert first <= (middle - timedelta(days=900)).toordinal()
    assert first + len(before) > (middle + timedelta(days=900)).toordinal()
