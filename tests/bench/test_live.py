"""bench.live's core against a real server on loopback: a few watchers, a few comments, and a
report that counts every one of them."""

import asyncio
from typing import Any

import pytest
from django.db import connection

from bench.live import PHONE_PREFIX, cleanup, lines, measure, percentiles, setup
from ocsc.accounts.models import ApiToken, User
from ocsc.cases.models import Application, Event
from tests.serve import serving

pytestmark = pytest.mark.django_db(transaction=True)

COMPLAINT = ("tma-mardan", "garbage-complaint")  # the small catalog's (tests/catalog/data)


def test_every_comment_reaches_its_watcher_and_the_report_counts_them(
    mini_catalog: None, settings: Any
) -> None:
    settings.LIVE_POLL_SECONDS = 30  # the in-process wake-up delivers, not the poll
    watchers = setup(4, service=COMPLAINT)
    assert len({w.tracking_no for w in watchers}) == 4
    assert User.objects.filter(phone__startswith=PHONE_PREFIX).count() == 4
    # The in-memory SQLite test database refuses a write while another connection reads:
    # there, one comment at a time; PostgreSQL takes them at a steady rate, several at once.
    sqlite = connection.vendor == "sqlite"

    with serving(settings) as url:
        report = asyncio.run(
            measure(
                watch_url=url,
                action_urls=[url],
                watchers=watchers,
                rate=0 if sqlite else 20,
                seconds=1,
                count=6,
                connect_concurrency=1 if sqlite else 4,
                say=lambda line: None,
            )
        )

    assert (report.watchers, report.connected, report.caught_up) == (4, 4, 4)
    assert (report.expected, report.received, report.lost) == (6, 6, 0)
    assert (report.failed_actions, report.duplicates, report.stream_errors) == (0, 0, [])
    assert list(report.latency_upper_ms) == ["p50", "p95", "p99", "max"]
    assert 0 <= report.latency_upper_ms["p50"] <= report.latency_upper_ms["max"] < 3000
    assert report.latency_lower_ms["max"] <= report.latency_upper_ms["max"]
    assert "6 received, 0 lost" in "\n".join(lines(report))
    comments = Event.objects.filter(kind="comment.added", text__startswith="bench live ")
    assert comments.count() == 6
    # Each watcher got one or two of them (six comments in turn over four watchers).
    assert set(comments.values_list("application_id", flat=True)) == set(
        Application.objects.filter(citizen__phone__startswith=PHONE_PREFIX).values_list(
            "pk", flat=True
        )
    )

    # A second setup reuses the applications and replaces the tokens.
    again = setup(4, service=COMPLAINT)
    assert [w.tracking_no for w in again] == [w.tracking_no for w in watchers]
    assert ApiToken.objects.filter(user__phone__startswith=PHONE_PREFIX).count() == 4

    assert cleanup() == {"applications": 4, "people": 4, "tasks": 0}
    assert not Event.objects.filter(application__citizen__phone__startswith=PHONE_PREFIX).exists()
    assert not User.objects.filter(phone__startswith=PHONE_PREFIX).exists()


def test_percentiles_are_nearest_rank_in_milliseconds() -> None:
    values = [n / 1000 for n in range(1, 101)]  # 1 … 100 ms
    assert percentiles(values) == {"p50": 50.0, "p95": 95.0, "p99": 99.0, "max": 100.0}
    assert percentiles([0.2]) == {"p50": 200.0, "p95": 200.0, "p99": 200.0, "max": 200.0}
    assert percentiles([]) == {}
