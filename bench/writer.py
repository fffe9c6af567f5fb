"""Fast writes of generated rows, below the ORM.

Rows are plain tuples of Python values in a declared column order. Primary keys are given by
the generator (allocated above the tables' current maximum), so rows can point at each other
before they are written: an application at its current step, an event at its step, an
attachment at its event. Django creates foreign keys DEFERRABLE INITIALLY DEFERRED on both
SQLite and PostgreSQL, so the order of inserts inside a transaction does not matter.

PostgreSQL gets COPY; SQLite gets executemany. Values are adapted the way Django's own
backends store them (SQLite: naive UTC text datetimes, durations in microseconds, UUIDs as
hex). A column the generator does not know (a field added to a model later) is filled with
the field's default, so a new field with a default does not break the generator.

Generation assumes nothing else writes to these tables meanwhile (ids are taken from max(id)).
"""

import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max
from django.db.models.fields import NOT_PROVIDED

Row = tuple[Any, ...]
Adapter = Callable[[Any], Any]

SUPPORTED = ("sqlite", "postgresql")


def check_vendor() -> None:
    if connection.vendor not in SUPPORTED:
        raise RuntimeError(
            f"bench writes to SQLite or PostgreSQL; this database is {connection.vendor}"
        )


def _sqlite_datetime(value: datetime) -> str:
    return str(value.astimezone(UTC).replace(tzinfo=None))


def _sqlite_date(value: date) -> str:
    return value.isoformat()


def _sqlite_duration(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds


def _uuid_hex(value: UUID) -> str:
    return value.hex


def _json(value: Any) -> str:
    return json.dumps(value)


def _adapter(field: models.Field[Any, Any]) -> Adapter | None:
    kind = field.get_internal_type()
    if kind == "JSONField":
        return _json
    if connection.vendor != "sqlite":
        return None  # psycopg adapts datetimes, dates, intervals, booleans and UUIDs itself
    return _SQLITE.get(kind)


_SQLITE: dict[str, Adapter] = {
    "DateTimeField": _sqlite_datetime,
    "DateField": _sqlite_date,
    "DurationField": _sqlite_duration,
    "UUIDField": _uuid_hex,
}


def _column(field: models.Field[Any, Any]) -> str:
    if field.column is None:
        raise ValueError(f"{field} has no column")
    return connection.ops.quote_name(field.column)


class Table:
    """The columns of one model that the generator fills, in its order, plus the others."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]) -> None:
        meta = model._meta
        fields = {field.attname: field for field in meta.concrete_fields}
        unknown = [name for name in columns if name not in fields]
        if unknown:
            raise ValueError(f"{meta.label} has no field {', '.join(unknown)}")
        supplied = [fields[name] for name in columns]
        self.model = model
        self.width = len(columns)
        self.adapters = [
            (index, adapter)
            for index, field in enumerate(supplied)
            if (adapter := _adapter(field)) is not None
        ]
        # Fields the generator does not fill: their defaults, computed once or per row.
        self.constant: list[Any] = []
        self.per_row: list[Callable[[], Any]] = []
        fixed: list[models.Field[Any, Any]] = []
        varying: list[models.Field[Any, Any]] = []
        for field in meta.concrete_fields:
            if field.attname in columns or field.db_default is not NOT_PROVIDED:
                continue  # given, or left to the database's own default
            if field.has_default() and callable(field.default):
                varying.append(field)
                self.per_row.append(self._default_of(field))
            elif field.has_default() or field.null or field.empty_strings_allowed:
                fixed.append(field)
                self.constant.append(self._prepare(field, field.get_default()))
            else:
                raise ValueError(
                    f"{meta.label}.{field.name} has no default: bench/ must learn to fill it"
                )
        quote = connection.ops.quote_name
        self.name = quote(meta.db_table)
        self.columns = ", ".join(_column(f) for f in [*supplied, *fixed, *varying])
        self.count = 0

    @staticmethod
    def _prepare(field: models.Field[Any, Any], value: Any) -> Any:
        if field.get_internal_type() == "JSONField":
            return None if value is None else _json(value)
        return field.get_db_prep_save(value, connection)

    def _default_of(self, field: models.Field[Any, Any]) -> Callable[[], Any]:
        return lambda: self._prepare(field, field.get_default())

    def _rows(self, rows: Iterable[Row]) -> Iterable[Row]:
        adapters, constant, per_row = self.adapters, tuple(self.constant), self.per_row
        for row in rows:
            if adapters:
                values = list(row)
                for index, adapt in adapters:
                    value = values[index]
                    if value is not None:
                        values[index] = adapt(value)
                row = tuple(values)
            if constant:
                row = row + constant
            if per_row:
                row = row + tuple(make() for make in per_row)
            yield row

    def insert(self, rows: Sequence[Row]) -> None:
        """Write the rows (inside the caller's transaction)."""
        if not rows:
            return
        self.count += len(rows)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                sql = f"COPY {self.name} ({self.columns}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for row in self._rows(rows):
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * (self.width + len(self.constant) + len(self.per_row)))
                sql = f"INSERT INTO {self.name} ({self.columns}) VALUES ({marks})"  # noqa: S608
                cursor.executemany(sql, list(self._rows(rows)))


def tune_session() -> None:
    """Settings for this connection only, for a bulk load: a bigger page cache on SQLite (its
    indexes outgrow the default 2 MB), no wait for the WAL flush at each commit on
    PostgreSQL (a crash could lose the last batches, never corrupt anything)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB
        else:
            cursor.execute("SET synchronous_commit TO off")


def next_ids(model: type[models.Model]) -> "itertools.count[int]":
    """Primary keys above the table's current maximum."""
    top = model._default_manager.aggregate(top=Max("pk"))["top"]
    return itertools.count((top or 0) + 1)


def reset_sequences(model_list: Sequence[type[models.Model]]) -> None:
    """After explicit ids, move PostgreSQL's sequences past them (SQLite needs nothing)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def analyze() -> None:
    """What autovacuum does after a bulk load (PostgreSQL): fresh planner statistics and, out
    of a transaction, a VACUUM that marks the new pages all-visible, without which no query
    is answered from an index alone. (The CI server runs with autovacuum off.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")


# Deleting ---------------------------------------------------------------------------------


def purge(model: type[models.Model], where: str, params: Sequence[Any]) -> int:
    """Delete the rows of `model` matching `where` (SQL over its table) and what depends on
    them, by SQL: a CASCADE dependent is deleted (its own dependents first), a SET_NULL one
    cleared. PROTECT'ed dependents are left alone: they must go through another path of the
    same purge, or the transaction fails at commit. Returns the rows of `model` deleted."""
    tables = set(connection.introspection.table_names())
    return _purge(model, where, list(params), path=(), tables=tables)


def _purge(
    model: type[models.Model],
    where: str,
    params: list[Any],
    *,
    path: tuple[type[models.Model], ...],
    tables: set[str],
) -> int:
    quote = connection.ops.quote_name
    meta = model._meta
    table = quote(meta.db_table)
    if meta.pk is None:
        raise ValueError(f"{meta.label} has no primary key")
    ids = f"SELECT {_column(meta.pk)} FROM {table} WHERE {where}"  # noqa: S608
    path = (*path, model)
    with connection.cursor() as cursor:
        for relation in meta.get_fields(include_hidden=True):
            if not (relation.auto_created and not relation.concrete and relation.is_relation):
                continue
            if relation.many_to_many:
                continue  # their through tables appear as hidden one-to-many relations
            child = relation.related_model
            remote = relation.remote_field  # the child's ForeignKey
            if not isinstance(child, type) or not isinstance(remote, models.ForeignKey):
                continue
            if child in path or child._meta.db_table not in tables:
                continue  # the same rows, deleted by this purge; or a table not migrated yet
            on_delete = relation.on_delete  # type: ignore[union-attr]
            column = _column(remote)
            if on_delete is models.CASCADE:
                _purge(child, f"{column} IN ({ids})", params, path=path, tables=tables)
            elif on_delete is models.SET_NULL:
                child_table = quote(child._meta.db_table)
                update = f"UPDATE {child_table} SET {column} = NULL WHERE {column} IN ({ids})"  # noqa: S608
                cursor.execute(update, params)
        cursor.execute(f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608
        return int(cursor.rowcount)
