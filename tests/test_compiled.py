"""`Compiled` reads give what the ORM gives, with any values, and refuse what they cannot
substitute when first compiled."""

import re
from datetime import date, datetime, timedelta
from uuid import UUID

import pytest
from django.db import connection, transaction
from django.db.models import Count, F, QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ocsc.accounts.models import User
from ocsc.cases.actions import take_action
from ocsc.cases.models import Application, Attachment, Event, Step
from ocsc.catalog.models import Role
from ocsc.compiled import (
    _INSERTS,
    Compiled,
    NotCompilable,
    insert,
    padded,
    update,
    update_fields,
    updates,
)
from ocsc.ids import uuid7
from ocsc.notify.models import Notification
from tests.personas import People, water_connection

FIELDS = ("id", "tracking_no", "state", "citizen_id", "submitted_at", "data", "location")


def _application(tracking_no: str) -> QuerySet[Application]:
    return (
        Application.objects.select_related("jurisdiction", "service", "current_step__assignee")
        .filter(tracking_no=tracking_no)
        .order_by()[:1]
    )


APPLICATION = Compiled(_application)


def _steps(application_id: int, since: datetime) -> QuerySet[Step]:
    return Step.objects.filter(application_id=application_id, entered_at__gte=since).order_by("pk")


STEPS = Compiled(_steps)


def _role_codes(kind_id: int, code: str) -> QuerySet[Role, tuple[str, str | None]]:
    return (
        Role.objects.filter(kind_id=kind_id)
        .exclude(code=code)
        .order_by("code")
        .values_list("code", "reports_to__code")
    )


ROLE_CODES = Compiled(_role_codes)


def _event_ids(application_id: int) -> QuerySet[Event, int]:
    return (
        Event.objects.filter(application_id=application_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


EVENT_IDS = Compiled(_event_ids)


@pytest.mark.django_db
def test_a_model_with_its_related_rows_is_read_as_the_orm_reads_it(people: People) -> None:
    application = water_connection(people)
    expected = _application(application.tracking_no).get()
    with CaptureQueriesContext(connection) as queries:
        found = APPLICATION.first(tracking_no=application.tracking_no)
    assert len(queries) == 1
    assert found is not None
    assert [getattr(found, f) for f in FIELDS] == [getattr(expected, f) for f in FIELDS]
    assert found.submitted_at.tzinfo is not None  # converted as the ORM converts (SQLite)
    # Related rows came in the same query, the open step without an assignee.
    with CaptureQueriesContext(connection) as queries:
        assert found.jurisdiction.code == "kp-mardan-mardan-nc-1"
        assert found.service.code == "water-connection"
        assert found.current_step is not None
        assert found.current_step.state == expected.current_step.state  # type: ignore[union-attr]
        assert found.current_step.assignee is None
    assert len(queries) == 0
    # Saved back like any instance read by the ORM.
    found.data = {**found.data, "note": "kept"}
    found.save(update_fields=["data"])
    assert Application.objects.get(pk=found.pk).data["note"] == "kept"


@pytest.mark.django_db
def test_each_call_uses_its_own_values(people: People) -> None:
    first = water_connection(people)
    second = water_connection(people)
    for application in (first, second, first):
        found = APPLICATION.first(tracking_no=application.tracking_no)
        assert found is not None and found.pk == application.pk
    assert APPLICATION.first(tracking_no="NO-SUCH-1") is None
    assert APPLICATION.all(tracking_no="' OR 1=1 --") == []  # a value, never SQL


@pytest.mark.django_db
def test_moments_tuples_and_flat_values(people: People) -> None:
    application = water_connection(people)
    take_action(application, actor=people.kamran, action="forward")
    entered = list(Step.objects.filter(application=application).order_by("pk"))
    assert len(entered) == 2
    since = entered[1].entered_at
    assert [s.pk for s in STEPS.all(application_id=application.pk, since=since)] == [entered[1].pk]
    earlier = since - timedelta(seconds=1)
    assert [s.pk for s in STEPS.all(application_id=application.pk, since=earlier)] == [
        s.pk for s in entered
    ]

    kind_id = application.organization.kind_id
    assert ROLE_CODES.all(kind_id=kind_id, code="clerk") == list(_role_codes(kind_id, "clerk"))
    assert ("clerk", "sub_engineer") not in ROLE_CODES.all(kind_id=kind_id, code="clerk")
    assert EVENT_IDS.all(application_id=application.pk) == list(
        Event.objects.filter(application=application).order_by("pk").values_list("pk", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_select_for_update_compiles_anywhere_and_locks_where_it_runs(people: People) -> None:
    def locked(event_id: int) -> QuerySet[Event]:
        return Event.objects.select_for_update(skip_locked=True).filter(pk=event_id)[:1]

    read = Compiled(locked)
    application = water_connection(people)
    event = Event.objects.filter(application=application).first()
    assert event is not None
    with transaction.atomic():
        found = read.first(event_id=event.pk)
    assert found is not None and found.pk == event.pk
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in read._shape().sql


def _by_size(size: float) -> QuerySet[Attachment]:
    return Attachment.objects.filter(size=size)


def _counted(kind_id: int) -> QuerySet[Role]:
    return Role.objects.filter(kind_id=kind_id).annotate(n=Count("reports"))


def _unannotated(kind_id):  # type: ignore[no-untyped-def]
    return Role.objects.filter(kind_id=kind_id)


def _lower(code: str) -> QuerySet[Role]:
    return Role.objects.filter(code__iexact=code.lower() + "x")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("build", "says"),
    [
        (_by_size, "annotate it as int, str, datetime, date, UUID, or a list"),
        (_counted, "annotations"),
        (_unannotated, "annotate it"),
        (_lower, "did not reach the SQL as given"),
    ],
)
def test_what_cannot_be_substituted_is_refused_when_compiled(
    people: People, build: object, says: str
) -> None:
    with pytest.raises(NotCompilable, match=says):
        Compiled(build).all(**{name: 1 for name in Compiled(build).names})  # type: ignore[arg-type]


@pytest.mark.django_db
def test_a_related_manager_is_refused(people: People) -> None:
    application = water_connection(people)

    def documents(kind: int) -> QuerySet[Attachment]:
        return application.attachments.filter(size__gt=kind)

    with pytest.raises(NotCompilable, match="related manager"):
        Compiled(documents).all(kind=0)


# insert() ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_inserted_rows_read_back_as_the_orm_would_have_written_them(people: People) -> None:
    application = water_connection(people)
    fields = {
        "application": application,
        "organization_id": application.organization_id,
        "kind": Event.Kind.COMMENT,
        "actor": people.ayesha,
        "actor_role": "citizen",
        "text": "Any news?",
        "data": {"nested": [1, "two"], "urdu": "کب؟"},
    }
    by_orm = Event.objects.create(**fields)
    with CaptureQueriesContext(connection) as queries:
        (ours,) = insert([Event(**fields)])
    assert len(queries) == 1
    assert ours.pk is not None and ours.pk > by_orm.pk
    assert not ours._state.adding
    columns = [f.attname for f in Event._meta.concrete_fields if f.attname not in ("id",)]
    mine, theirs = (Event.objects.values(*columns).get(pk=pk) for pk in (ours.pk, by_orm.pk))
    assert mine.pop("created_at") >= theirs.pop("created_at")
    assert mine == theirs


@pytest.mark.django_db
def test_several_rows_in_one_statement_and_conflicts_left_out(people: People) -> None:
    def note(user: User, key: str) -> Notification:
        return Notification(
            recipient=user,
            channel="in_app",
            key=key,
            reason="comment",
            topic="progress",
            title="A comment",
            body="Any news?",
            status="sent",
        )

    first = insert([note(people.ayesha, "k1"), note(people.bilal, "k1")])
    assert [n.recipient_id for n in first] == [people.ayesha.pk, people.bilal.pk]
    assert first[0].pk < first[1].pk
    again = [note(people.kamran, "k1"), note(people.ayesha, "k1"), note(people.ayesha, "k2")]
    made = insert(again, ignore_conflicts=True, returning="uuid")
    assert made == [again[0], again[2]]  # Ayesha's k1 exists: left out, and left alone
    assert again[1].pk is None
    stored = dict(Notification.objects.values_list("pk", "recipient_id"))
    assert stored == {n.pk: n.recipient_id for n in (*first, again[0], again[2])}


@pytest.mark.django_db
def test_any_number_of_rows_is_one_sql_and_reads_back_as_the_orm_wrote_it(
    people: People,
) -> None:
    """On PostgreSQL several rows go as arrays (one SQL whatever their number); on SQLite
    as a VALUES list of their number. Either way: JSON, moments, nulls and keys as the ORM
    writes them."""
    application = water_connection(people)

    def fields(n: int) -> dict[str, object]:
        return {
            "application": application,
            "organization_id": application.organization_id,
            "kind": Event.Kind.COMMENT,
            "actor": (people.ayesha, None, people.kamran)[n % 3],  # a system event: no actor
            "actor_role": "citizen",
            "text": f"Note {n}",
            "data": ({"nested": [n, "دو"]}, {}, {"to_role": None})[n % 3],
        }

    columns = [f.attname for f in Event._meta.concrete_fields if f.attname not in ("id",)]
    for count in (2, 3, 2):
        batch = [fields(n) for n in range(count)]
        theirs = [Event.objects.create(**f) for f in batch]
        with CaptureQueriesContext(connection) as queries:
            ours = insert([Event(**f) for f in batch])
        assert len(queries) == 1
        assert [e.pk for e in ours] == sorted(e.pk for e in ours)  # in the order given
        for mine, orm in zip(ours, theirs, strict=True):
            read = [Event.objects.values(*columns).get(pk=e.pk) for e in (mine, orm)]
            assert read[0].pop("created_at") >= read[1].pop("created_at")
            assert read[0] == read[1]
    # The SQL kept by (database, model, rows, conflicts, returning): rows 0 is "any number".
    kept = {rows: sql for (_, model, rows, *_), sql in _INSERTS.items() if model is Event}
    if connection.vendor == "postgresql":
        assert 2 not in kept and 3 not in kept and "FROM unnest(" in kept[0]
    else:
        assert 0 not in kept and "VALUES" in kept[2] and "VALUES" in kept[3]


@pytest.mark.django_db
def test_pages_and_counts_are_the_database_s(people: People) -> None:
    application = water_connection(people)
    for text in ("one", "two", "three"):
        Event.objects.create(
            application=application, organization_id=application.organization_id, text=text
        )

    def events(application_id: int) -> QuerySet[Event]:
        return Event.objects.filter(application_id=application_id).select_related("step")

    read = Compiled(events)
    assert read.count(application_id=application.pk) == events(application.pk).count() == 4
    assert read.count(application_id=0) == 0
    paged = Compiled(_steps)
    assert paged.page(0, 1, application_id=application.pk, since=application.submitted_at) == [
        application.current_step
    ]
    assert paged.page(1, 5, application_id=application.pk, since=application.submitted_at) == []
    assert paged.count(application_id=application.pk, since=application.submitted_at) == 1


@pytest.mark.django_db
def test_an_update_writes_what_the_orm_s_update_writes(people: People) -> None:
    first, second = water_connection(people), water_connection(people)
    step, moment = first.current_step, timezone.now() - timedelta(hours=3)
    assert step is not None
    values = {"left_at": moment, "working_time": timedelta(hours=2, seconds=5), "breached": True}

    assert update(Step, {"pk": step.pk, "left_at": None}, assignee=people.sana, **values) == 1
    assert update(Step, {"pk": step.pk, "left_at": None}, breached=False) == 0  # left now
    Step.objects.filter(pk=second.current_step_id).update(assignee=people.sana, **values)
    mine, orms = Step.objects.get(pk=step.pk), Step.objects.get(pk=second.current_step_id)
    fields = ("assignee_id", "left_at", "working_time", "breached")
    assert [getattr(mine, f) for f in fields] == [getattr(orms, f) for f in fields]
    assert mine.left_at == moment and mine.assignee_id == people.sana.pk
    mine.breached, mine.escalation_level = False, 2  # only the fields named are written
    assert update_fields(mine, "breached") == 1
    mine.refresh_from_db()
    assert (mine.breached, mine.escalation_level) == (False, 0)

    # a foreign key set to nothing and matched by its value; none matched: no row changed
    where = {"pk": first.pk, "current_step": step.pk}
    assert update(Application, where, current_step=None, closed_at=moment) == 1
    assert update(Application, where, closed_at=None) == 0
    first.refresh_from_db()
    assert (first.current_step_id, first.closed_at) == (None, moment)


@pytest.mark.django_db
def test_an_update_takes_a_list_as_in_and_refuses_an_empty_one(people: People) -> None:
    applications = [water_connection(people) for _ in range(3)]
    events = [Event.objects.filter(application=a).order_by("pk")[0] for a in applications]
    moment = timezone.now() - timedelta(minutes=7)
    Event.objects.filter(pk=events[2].pk).update(dispatched_at=moment - timedelta(hours=1))
    ids = [event.pk for event in events]
    where = {"pk": ids, "dispatched_at": None}  # the third is dispatched already: left alone
    assert update(Event, where, dispatched_at=moment) == 2
    assert update(Event, where, dispatched_at=moment) == 0
    marks = dict(Event.objects.filter(pk__in=ids).values_list("pk", "dispatched_at"))
    assert marks == {ids[0]: moment, ids[1]: moment, ids[2]: moment - timedelta(hours=1)}
    assert update(Event, {"pk": ids[:1]}, dispatched_at=None) == 1  # another length
    with CaptureQueriesContext(connection) as queries:  # three ids: the SQL for four
        assert update(Event, {"pk": ids}, dispatched_at=moment) == 3
    assert _in_lengths(queries[0]["sql"]) == [4]
    with pytest.raises(ValueError, match="an empty list"):
        update(Event, {"pk": []}, dispatched_at=moment)


@pytest.mark.django_db
def test_several_updates_count_each_and_are_one_statement_on_postgresql(people: People) -> None:
    application = water_connection(people)
    step = application.current_step
    assert step is not None
    moment = timezone.now() - timedelta(minutes=5)
    claim = {"pk": application.pk, "current_step": step.pk}

    with CaptureQueriesContext(connection) as queries:
        counts = updates(
            (Application, claim, {"current_step": None, "closed_at": moment}),
            (Step, {"pk": step.pk}, {"left_at": moment, "breached": True}),
        )
    assert counts == [1, 1]
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)
    application.refresh_from_db()
    step.refresh_from_db()
    assert (application.current_step_id, application.closed_at) == (None, moment)
    assert (step.left_at, step.breached) == (moment, True)

    # The claim is lost (the application has moved on): 0 for it, and the other change is
    # made all the same, for the caller's transaction to take back.
    later = moment + timedelta(minutes=1)
    counts = updates(
        (Application, claim, {"closed_at": later}),
        (Step, {"pk": step.pk}, {"left_at": later}),
    )
    assert counts == [0, 1]
    application.refresh_from_db()
    step.refresh_from_db()
    assert (application.closed_at, step.left_at) == (moment, later)
    assert updates((Step, {"pk": step.pk}, {"breached": False})) == [1]


@pytest.mark.django_db
def test_an_update_refuses_an_expression(people: People) -> None:
    application = water_connection(people)
    with pytest.raises(TypeError, match="not expressions"):
        update(Step, {"pk": application.current_step_id}, escalation_level=F("escalation_level"))


def _posted(user_ids: list[int], roles: list[str], day: date) -> QuerySet[User]:
    return User.objects.filter(
        pk__in=user_ids, postings__role__code__in=roles, postings__starts_on__lte=day
    ).order_by("pk")


POSTED = Compiled(_posted)


@pytest.mark.django_db
def test_lists_and_days_are_substituted_and_an_empty_list_is_left_to_the_orm(
    people: People,
) -> None:
    everyone = list(User.objects.values_list("pk", flat=True))
    today = timezone.localdate()
    cases = [
        (everyone, ["sub_engineer", "tmo"], today),
        (everyone[:2], ["sub_engineer"], today),
        ([people.sana.pk], ["sub_engineer", "tmo", "zonal_manager"], today),
        (everyone, ["sub_engineer"], today - timedelta(days=3650)),  # before any posting
        ([], ["sub_engineer"], today),
    ]
    for user_ids, roles, day in cases:
        expected = list(_posted(user_ids, roles, day))
        with CaptureQueriesContext(connection) as queries:
            found = POSTED.all(user_ids=user_ids, roles=roles, day=day)
        assert [u.pk for u in found] == [u.pk for u in expected]
        assert len(queries) == (1 if user_ids else 0)  # (Django runs no SQL for `__in` [])
    assert any(POSTED.all(user_ids=everyone, roles=["sub_engineer"], day=today))
    assert POSTED.count(user_ids=everyone, roles=["sub_engineer", "tmo"], day=today) == len(
        _posted(everyone, ["sub_engineer", "tmo"], today)
    )


def _uploads(keys: list[UUID], owner: int) -> QuerySet[Attachment]:
    return Attachment.objects.filter(uuid__in=keys, uploaded_by=owner).order_by("pk")


def _upload(key: UUID) -> QuerySet[Attachment]:
    return Attachment.objects.filter(uuid=key)[:1]


UPLOADS = Compiled(_uploads)
UPLOAD = Compiled(_upload)


@pytest.mark.django_db
def test_uuids_and_lists_of_them_are_substituted(people: People) -> None:
    application = water_connection(people)
    mine = list(Attachment.objects.filter(application=application).order_by("pk"))
    assert len(mine) >= 2
    owner = mine[0].uploaded_by_id
    stranger = uuid7()
    for keys in ([a.uuid for a in mine], [mine[1].uuid, stranger], [stranger], []):
        expected = list(_uploads(keys, owner))
        with CaptureQueriesContext(connection) as queries:
            found = UPLOADS.all(keys=keys, owner=owner)
        assert [(a.pk, a.uuid, a.file.name) for a in found] == [
            (a.pk, a.uuid, a.file.name) for a in expected
        ]
        assert len(queries) == (1 if keys else 0)
    assert [a.pk for a in UPLOADS.all(keys=[mine[0].uuid], owner=people.sana.pk + 10**6)] == []
    upload = UPLOAD.first(key=mine[1].uuid)
    assert upload is not None
    assert (upload.pk, upload.uuid) == (mine[1].pk, mine[1].uuid)
    assert UPLOAD.first(key=stranger) is None


def test_lists_are_padded_to_a_power_of_two_with_their_last_item() -> None:
    assert [padded(list(range(n))) for n in (1, 2, 3, 5)] == [
        [0],
        [0, 1],
        [0, 1, 2, 2],
        [0, 1, 2, 3, 4, 4, 4, 4],
    ]
    assert len(padded(list(range(32)))) == 32
    assert len(padded(list(range(33)))) == 64


@pytest.mark.django_db
def test_a_list_of_any_length_reads_through_a_few_statements(people: People) -> None:
    everyone = list(User.objects.values_list("pk", flat=True))
    assert len(everyone) >= 5
    lengths = set()
    for n in range(1, len(everyone) + 1):
        with CaptureQueriesContext(connection) as queries:
            found = POSTED.all(user_ids=everyone[:n], roles=["sub_engineer", "tmo"], day=_today())
        assert [u.pk for u in found] == [
            u.pk for u in _posted(everyone[:n], ["sub_engineer", "tmo"], _today())
        ]
        (users, roles) = _in_lengths(queries[0]["sql"])
        assert users >= n and roles == 2
        lengths.add(users)
    assert lengths == {2**k for k in range((len(everyone) - 1).bit_length() + 1)}


def _today() -> date:
    return timezone.localdate()


def _in_lengths(sql: str) -> list[int]:
    """How many items each `IN (…)` of a statement (its values written in) lists."""
    return [len(items.split(", ")) for items in re.findall(r" IN \(([^)]*)\)", sql)]


# first_around() ----------------------------------------------------------------------------

# The application's events, a row each, beside the application read (and its related rows).
_WITH_EVENTS = """
SELECT q.*, e.kind, e.created_at FROM ({inner}) q
LEFT JOIN cases_event e ON e.application_id = %s
ORDER BY e.id
"""


@pytest.mark.django_db
def test_first_around_reads_the_first_row_and_more_columns_in_one_statement(
    people: People,
) -> None:
    application = water_connection(people)
    take_action(application, actor=people.kamran, action="forward")
    expected = _application(application.tracking_no).get()
    with CaptureQueriesContext(connection) as queries:
        found, extra = APPLICATION.first_around(
            _WITH_EVENTS, [application.pk], tracking_no=application.tracking_no
        )
    assert len(queries) == 1
    assert found is not None
    assert [getattr(found, f) for f in FIELDS] == [getattr(expected, f) for f in FIELDS]
    assert found.submitted_at.tzinfo is not None  # converted as the ORM converts (SQLite)
    assert found.current_step is not None and found.current_step.state == "site_inspection"
    # A row of the outer SQL's columns for each event, in its order.
    assert [kind for kind, _ in extra] == ["application.submitted", "step.action"]

    nothing = APPLICATION.first_around(_WITH_EVENTS, [application.pk], tracking_no="NO-SUCH-1")
    assert nothing == (None, [])


@pytest.mark.django_db
def test_first_around_refuses_list_parameters(people: People) -> None:
    with pytest.raises(NotCompilable, match="no list parameters"):
        POSTED.first_around(_WITH_EVENTS, [1], user_ids=[1], roles=["x"], day=timezone.localdate())
