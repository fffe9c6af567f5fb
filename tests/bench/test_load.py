"""The lifecycle benchmark's core against the real app served on loopback: a few users, a few
lifecycles each, counted by the report and found in the database as the calls left them."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from bench.load import KINDS, PREFIX, Cast, CpuMeter, Options, check_url, prepare, remove, run
from ocsc.accounts.models import ApiToken, User
from ocsc.cases.models import Application, Attachment, Event
from tests.conftest import KP_CATALOG
from tests.serve import serving

LIFECYCLES = 2


def users() -> int:
    """Three users at once; one on SQLite, whose in-memory test database shared with the
    server's threads refuses concurrent writers ("database table is locked")."""
    return 1 if connection.vendor == "sqlite" else 3


@pytest.fixture
def cast(transactional_db: None) -> Cast:
    call_command("load_catalog", str(KP_CATALOG), verbosity=0)
    return prepare(citizens=3, organizations=["wssc-mardan", "wssp"], resolvers=2)


@pytest.fixture
def server(cast: Cast, settings: Any) -> Iterator[str]:
    with serving(settings) as url:
        yield url


def test_lifecycles_complete_and_the_report_counts_every_call(cast: Cast, server: str) -> None:
    count = users()
    options = Options(url=server, users=count, duration=60, warmup=0, lifecycles=LIFECYCLES)
    report = asyncio.run(run(options, cast))

    done = count * LIFECYCLES
    assert report.errors == [], report.error_samples
    assert report.lifecycles == report.lifecycle_ms["count"] == done
    calls = {kind: int(stats["count"]) for kind, stats in report.calls.items()}
    assert calls == {kind: done * (2 if kind == "upload" else 1) for kind in KINDS}
    assert report.lifecycles_per_second > 0
    assert all(0 < s["p50"] <= s["p95"] <= s["p99"] <= s["max"] for s in report.calls.values())

    made = Application.objects.filter(tracking_no__in=report.applications)
    assert made.count() == len(set(report.applications)) == done
    assert {(a.state, a.category, a.outcome) for a in made} == {
        ("resolved", "closed_ok", "resolved")
    }
    offices = {cast.offices[user % len(cast.offices)].organization for user in range(count)}
    assert set(made.values_list("organization__code", flat=True)) == offices
    assert all(a.citizen.phone.startswith(PREFIX) for a in made)
    kinds = list(
        Event.objects.filter(application__in=made)
        .order_by("application_id", "pk")
        .values_list("kind", "actor_role", "action")
    )
    assert (
        kinds
        == [
            ("application.submitted", "citizen", ""),
            ("step.action", "zonal_manager", "forward"),
            ("step.assigned", "zonal_manager", ""),
            ("step.action", "manager_billing", "resolve"),
        ]
        * done
    )
    assert Attachment.objects.filter(application__in=made).count() == 2 * done

    removed = remove(people=True)
    assert removed["applications"] == done
    assert not User.objects.filter(phone__startswith=PREFIX).exists()
    assert not ApiToken.objects.exists()


def test_the_benchmark_sends_nothing_beyond_loopback() -> None:
    assert check_url("http://127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert check_url("http://localhost:81/") == ("localhost", 81)
    for url in ("http://10.0.0.5:8000", "http://example.org", "https://127.0.0.1", "127.0.0.1"):
        with pytest.raises(ValueError, match="loopback|http"):
            check_url(url)


def test_the_cpu_meter_counts_as_server_other_processes_not_itself_or_its_starters() -> None:
    # The benchmark's own command line (and its shell's) holds `--server-match TEXT`.
    others = subprocess.Popen(  # noqa: S603 - a sleeping python whose command line matches
        [sys.executable, "-c", "import time; time.sleep(30)  # ocsc-meter-test"]
    )
    try:
        time.sleep(0.2)
        roots = CpuMeter(None, server_match="ocsc-meter-test")._roots()
        assert roots["server"] == {others.pid}
        everything = CpuMeter(None, server_match="python")._roots()["server"]
        assert os.getpid() not in everything and os.getppid() not in everything
    finally:
        others.kill()
        others.wait()
