from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pytest_django.fixtures import Settings

from ocsc.notify.models import Notification

P = ParamSpec("P")
T = TypeVar("T")
PKT = ZoneInfo("Asia/Karachi")
MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=PKT)  # Mon 7 Dec 2026, 09:00 in Mardan


@pytest.fixture(autouse=True)
def notify_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # the fake gateways are on loopback
    settings.SMS_GATEWAY = "ocsc.notify.sms.ConsoleGateway"
    settings.SITE_URL = "https://ocsc.example.org"
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """Monday 7 December 2026, 09:00 in Mardan, standing still until moved."""
    with time_machine.travel(MONDAY_9, tick=False) as traveller:
        yield traveller


Run = Callable[..., Any]


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Run:
    """Call a write and then what its commit sets off (the Event's dispatch, the deliveries),
    as a real commit would."""

    def run(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


def told(**filters: Any) -> set[tuple[str, str, str]]:
    """Who was told what by which channel: (first name, channel, reason)."""
    return {
        (n.recipient.name.split()[0], n.channel, n.reason)
        for n in Notification.objects.filter(**filters).select_related("recipient")
    }
