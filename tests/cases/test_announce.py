"""Events are announced after their transaction commits, those of one transaction together
(one dispatch task, one NOTIFY statement), and never one that was rolled back unless a later
one of the same announcement stands."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from ocsc.cases.actions import add_comment, assign, take_action
from ocsc.cases.models import Event
from ocsc.cases.signals import event_committed
from tests.personas import People, water_connection


@pytest.fixture
def heard() -> Iterator[list[tuple[int, ...]]]:
    """The event ids of each `event_committed`, as sent."""
    calls: list[tuple[int, ...]] = []

    def receiver(sender: Any, *, event_ids: tuple[int, ...], **kwargs: Any) -> None:
        calls.append(tuple(event_ids))

    event_committed.connect(receiver, dispatch_uid="tests.heard")
    yield calls
    event_committed.disconnect(dispatch_uid="tests.heard")


def ids(application_id: int, *kinds: str) -> tuple[int, ...]:
    rows = Event.objects.filter(application_id=application_id, kind__in=kinds).order_by("pk")
    return tuple(rows.values_list("pk", flat=True))


@pytest.mark.django_db
def test_an_action_and_its_assignment_are_announced_together_after_commit(
    people: People, heard: list[tuple[int, ...]], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        application = water_connection(people)
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():  # as the API's action with an assignee
            take_action(application, actor=people.kamran, action="forward")
            assign(application, actor=people.imran, assignee=people.sana)
        assert heard == []  # nothing before the commit
    assert len(callbacks) == 1  # one announcement for the transaction
    assert heard == [ids(application.pk, "step.action", "step.assigned")]


@pytest.mark.django_db
def test_a_rolled_back_savepoint_takes_its_announcement_with_it(
    people: People, heard: list[tuple[int, ...]], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        application = water_connection(people)
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        try:
            with transaction.atomic():
                add_comment(application, actor=people.ayesha, text="Any news?")
                raise RuntimeError("changed my mind")
        except RuntimeError:
            pass
        add_comment(application, actor=people.ayesha, text="When will it be done?")
    comments = Event.objects.filter(application=application, kind="comment.added")
    assert [e.text for e in comments] == ["When will it be done?"]
    assert heard == [ids(application.pk, "comment.added")]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_each_write_is_announced_when_it_commits(
    people: People, heard: list[tuple[int, ...]]
) -> None:
    application = water_connection(people)
    add_comment(application, actor=people.ayesha, text="Any news?")
    submitted = ids(application.pk, "application.submitted")
    assert heard == [submitted, ids(application.pk, "comment.added")]
