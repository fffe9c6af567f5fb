"""`bench.cpu`: the lifecycle's calls in one process, each counted under its kind, the Events
dispatched as the worker would, and nothing left behind."""

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings

from bench.cpu import KINDS, measure, report
from bench.load import PREFIX
from ocsc.cases.models import Application
from ocsc.notify.models import Notification
from tests.conftest import KP_CATALOG


@pytest.mark.django_db(transaction=True)
def test_every_call_of_each_lifecycle_is_counted_and_the_run_cleans_up(settings: Settings) -> None:
    # Tasks wait for a worker, as in production (the tests' default runs them at once).
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    call_command("load_catalog", str(KP_CATALOG), verbosity=0)
    meter = measure(2, warmup=1, profile="create")

    assert meter.calls == {
        "upload": 4,
        "create": 2,
        "assign": 2,
        "resolve": 2,
        "list": 2,
        "open": 2,
        "worker": 2,  # each lifecycle's Events (submitted, forwarded, assigned, resolved) at once
    }
    assert all(meter.seconds[kind] > 0 for kind in KINDS)
    assert all(meter.statements[kind] >= meter.calls[kind] for kind in KINDS)  # SQL counted
    assert meter.profiler.getstats()  # the creates were profiled
    lines = list(report(meter, 2))
    assert lines[-2].startswith("app calls ") and "per lifecycle" in lines[-2]
    per_lifecycle = sum(meter.statements.values()) / 2
    assert lines[-1] == f"{per_lifecycle:.1f} SQL statements per lifecycle"
    # What the run made is gone (the bench people stay for the next run).
    assert not Application.objects.filter(citizen__phone__startswith=PREFIX).exists()
    assert not Notification.objects.filter(recipient__phone__startswith=PREFIX).exists()


@pytest.mark.django_db(transaction=True)
def test_the_documents_can_go_with_the_complaint(settings: Settings) -> None:
    """`--documents form`: no upload calls; the complaint is accepted (its two required
    documents came with it) and the rest of the lifecycle runs as before."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    call_command("load_catalog", str(KP_CATALOG), verbosity=0)
    meter = measure(2, warmup=0, documents="form")
    expected = dict.fromkeys(KINDS, 2) | {"upload": 0}
    assert meter.calls == expected
