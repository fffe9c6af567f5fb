"""Every foreign key's column leads some index (its joins, its cascades and PROTECT checks
look rows up by it), and on the busy tables none has an index of its own that another,
beginning with it, already serves."""

import pytest
from django.apps import apps
from django.db import connection, models

pytestmark = pytest.mark.django_db

OURS = ("accounts", "catalog", "cases", "notify", "insights", "clients")
# The tables written at every step of every application: an index more is a write more.
BUSY = {"cases.Application", "cases.Step", "cases.Event", "cases.Attachment", "notify.Notification"}


def _indexes(table: str) -> list[list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return [c["columns"] for c in found.values() if (c["index"] or c["unique"]) and c["columns"]]


def test_every_foreign_key_leads_an_index_and_none_twice() -> None:
    unserved, doubled = [], []
    for model in apps.get_models():
        if model._meta.app_label not in OURS or not model._meta.managed:
            continue
        indexes = _indexes(model._meta.db_table)
        for field in model._meta.local_fields:
            if not isinstance(field, models.ForeignKey):
                continue
            leading = [columns for columns in indexes if columns[0] == field.column]
            if not leading:
                unserved.append(f"{model._meta.label}.{field.name}")
            elif model._meta.label in BUSY and [field.column] in leading and len(leading) > 1:
                doubled.append(f"{model._meta.label}.{field.name}")
    assert unserved == [], unserved
    assert doubled == [], doubled


def _plan(sql: str, params: list[object]) -> str:
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # an empty table: make the index the only way
            cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(explain + sql, params)
        return "\n".join(" ".join(str(column) for column in row) for row in cursor.fetchall())


def test_a_persons_own_list_is_read_in_the_order_of_its_index() -> None:
    """The list a citizen's app asks for most (`OWN`, newest first, then by key) walks the
    index `application_own` and sorts nothing, however many applications the person has."""
    from ocsc.cases.queries import _own

    sql, params = _own(citizen_id=1)[:10].query.sql_with_params()
    plan = _plan(sql, list(params))
    assert "application_own" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
