"""Simultaneous writers on PostgreSQL: real threads, real connections, committed data."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from ocsc.cases.actions import ApplicationChanged, take_action
from ocsc.cases.models import Application, Event
from tests.personas import People, upload, water_connection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]


def in_thread[T](work: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        try:
            return work()
        finally:
            connection.close()

    return run


def test_two_officials_acting_at_once_write_one_event(people: People) -> None:
    application = water_connection(people)
    start = threading.Barrier(2)

    def act(actor: Any, action: str, comment: str) -> str:
        seen = Application.objects.select_related("current_step", "organization", "service").get(
            pk=application.pk
        )
        start.wait()
        try:
            take_action(seen, actor=actor, action=action, comment=comment)
        except ApplicationChanged:
            return "conflict"
        return "done"

    with ThreadPoolExecutor(2) as pool:
        results = [
            pool.submit(in_thread(lambda: act(people.kamran, "forward", ""))),
            pool.submit(in_thread(lambda: act(people.tariq, "reject", "Not feasible"))),
        ]
        outcomes = sorted(future.result() for future in results)

    assert outcomes == ["conflict", "done"]
    assert Event.objects.filter(application=application, kind="step.action").count() == 1
    application.refresh_from_db()
    # Whoever won, the application moved once: one closed scrutiny, and a next step only
    # if the forward won (a rejection ends the process).
    assert application.state in {"site_inspection", "rejected"}
    assert application.steps.filter(state="scrutiny", left_at__isnull=False).count() == 1
    assert application.steps.count() == (2 if application.state == "site_inspection" else 1)


def test_fifty_parallel_submissions_get_fifty_gap_free_numbers(people: People) -> None:
    documents = [
        {"cnic_copy": upload(people.ayesha), "affidavit": upload(people.ayesha)} for _ in range(50)
    ]

    def submit(index: int) -> str:
        return water_connection(people, documents=documents[index]).tracking_no

    with ThreadPoolExecutor(10) as pool:
        numbers = list(pool.map(lambda i: in_thread(lambda: submit(i))(), range(50)))

    assert len(set(numbers)) == 50
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 51))
