"""Two timer processes at once (PostgreSQL: real concurrent transactions): every escalation
level, timeout and reminder happens once."""

import threading
from datetime import datetime

import pytest
import time_machine
from django.db import connections

from ocsc.cases.actions import take_action
from ocsc.cases.models import Application, Event
from ocsc.notify.models import Notification
from ocsc.notify.timers import run_timers
from tests.notify.conftest import MONDAY_9, PKT
from tests.personas import People, water_connection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]


def reread(application: Application) -> Application:
    return Application.objects.select_related(
        "current_step", "organization", "service", "jurisdiction", "process"
    ).get(pk=application.pk)


def test_two_timers_at_once_escalate_time_out_and_remind_once(people: People) -> None:
    with time_machine.travel(MONDAY_9, tick=False) as clock:
        late = water_connection(people)
        take_action(reread(late), actor=people.kamran, action="forward")
        lapsing = water_connection(people)
        take_action(reread(lapsing), actor=people.kamran, action="return", comment="Sign it.")
        due_soon = water_connection(people)  # the clerk's step falls due Wed 9 Dec 09:00

        clock.move_to(datetime(2026, 12, 22, 9, 0, tzinfo=PKT))
        start = threading.Barrier(2)
        failures: list[BaseException] = []

        def timers() -> None:
            try:
                start.wait(timeout=10)
                run_timers()
            except BaseException as exc:  # reported below
                failures.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=timers) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert failures == []
    escalated = Event.objects.filter(kind="step.escalated").order_by("pk")
    assert sorted(
        (e.application.tracking_no, e.data["level"], e.data["to_role"]) for e in escalated
    ) == [
        ("MDN-26-000001", 1, "to_infra"),
        ("MDN-26-000001", 2, "tmo"),
        ("MDN-26-000003", 1, "tmo"),  # the clerk's step: the head is one level up
    ]
    assert Event.objects.filter(action="lapse").count() == 1
    assert reread(lapsing).state == "lapsed"
    assert reread(due_soon).state == "scrutiny"
    keys = list(Notification.objects.values_list("recipient_id", "channel", "key"))
    assert len(keys) == len(set(keys))
    assert Notification.objects.filter(reason="escalated", recipient=people.tariq).count() == 4
