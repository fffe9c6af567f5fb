"""SQL built once per process for the few reads and inserts every request makes.

Building a queryset and compiling it to SQL is most of the CPU a request spends on a read
(a ten-table `select_related` takes about 1.5 ms to compile and 0.2 ms to run). A
`Compiled` read is written as an ordinary queryset whose variable parts are the builder's
parameters; it is compiled once per database with stand-in values, and each call then runs
the same SQL with the real values and turns the rows into model instances (or tuples) the
way Django's own iterables do: the same converters, the same related objects.

    def _event(event_id: int) -> QuerySet[Event]:
        return Event.objects.select_related("step").filter(pk=event_id)[:1]

    EVENT = Compiled(_event)
    event = EVENT.first(event_id=5)

Only what can be substituted safely is allowed, and anything else is refused when the read
is first compiled (a test catches it): parameters, annotated `int`, `str`, `datetime`, `date`
or `UUID`, are compared as they are, and `list[int]`, `list[str]` or `list[UUID]` ones go to
`__in` (a list is made up to a power of two with copies of its last item, `padded`, and the
read compiled once per such length; an empty list is left to the ORM, which decides what it
means). The queryset yields models, `values_list()` tuples or flat values, with no
annotations, extra selects or objects known from a related manager.

`insert()` writes new rows the same way, one INSERT per model and row count, and `update()`
changes rows by their fields' values, one UPDATE per model and field names; `updates()`
makes several such changes in one statement on PostgreSQL.
"""

import operator
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from inspect import signature
from typing import Any, get_args, get_origin
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)

# Stand-ins, unlike any value a read is given: whole numbers within a 32-bit column's range
# (Django answers an out-of-range lookup with no SQL at all), text no one types.
_INT_BASE = 2_046_000_000
_TEXT = "\x1eocsc-compiled-{}\x1e"
_MOMENT = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
_DAY = date(1901, 2, 3)
_LIST_SPAN = 1000  # a list's stand-ins: _INT_BASE + (index + 1) * _LIST_SPAN + position


class NotCompilable(Exception):
    """The queryset cannot be run again with other values (the message says why)."""


@dataclass(frozen=True)
class _Shape:
    """One read compiled for one database."""

    sql: str
    # Per SQL parameter: (None, None, the constant) or (a parameter's name, the position in
    # its list or None, None or its adapter).
    slots: tuple[tuple[str | None, int | None, Any], ...]
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]
    make: Callable[[Sequence[Any]], Any]  # a row (converted) into what the read yields
    width: int  # how many columns the SQL selects


# Pages of one read compiled at once (each window is its own SQL): the first ones are kept.
_WINDOWS_KEPT = 32
# first_around's statements: by the read's SQL and the outer SQL (both written in code).
_AROUND: dict[tuple[str, str], str] = {}


class Compiled[T]:
    """A read compiled once per database; call `all`, `first`, `page` or `count` with its
    values."""

    def __init__(self, build: Callable[..., QuerySet[Any, T]], *, using: str = DEFAULT_DB_ALIAS):
        self.build = build
        self.kinds = {name: p.annotation for name, p in signature(build).parameters.items()}
        self.names = tuple(self.kinds)
        self.lists = tuple(n for n, kind in self.kinds.items() if get_origin(kind) is list)
        self.using = using
        self._shapes: dict[tuple[str, Hashable, tuple[int, ...]], _Shape] = {}
        self._lock = threading.Lock()

    def all(self, **values: Any) -> list[T]:
        return self._run(None, values)

    def page(self, offset: int, limit: int, /, **values: Any) -> list[T]:
        """`all()[offset:offset + limit]`, in SQL."""
        return self._run((offset, offset + limit), values)

    def count(self, /, **values: Any) -> int:
        """How many rows `all()` would give, counted by the database."""
        (counted,) = self._run("count", values)
        return int(counted)

    def _run(self, variant: Hashable, values: dict[str, Any]) -> list[Any]:
        lengths = tuple(len(values[name]) for name in self.lists)
        if 0 in lengths:  # `__in` an empty list: Django decides what that means, without SQL
            return self._orm(variant, values)
        if self.lists:
            values = {**values, **{name: padded(values[name]) for name in self.lists}}
            lengths = tuple(len(values[name]) for name in self.lists)
        shape = self._shape(variant, lengths)
        connection = connections[self.using]
        with connection.cursor() as cursor:
            cursor.execute(shape.sql, _params(shape, values))
            rows: Sequence[Any] = cursor.fetchall()
        if shape.converters:
            rows = [_convert(row, shape, connection) for row in rows]
        return [shape.make(row) for row in rows]

    def _orm(self, variant: Hashable, values: dict[str, Any]) -> list[Any]:
        queryset = self.build(**values).using(self.using)
        if variant == "count":
            return [queryset.count()]
        if isinstance(variant, tuple):
            queryset = queryset[variant[0] : variant[1]]
        return list(queryset)

    def first(self, **values: Any) -> T | None:
        """The first row (build the queryset with its order and `[:1]`)."""
        found = self.all(**values)
        return found[0] if found else None

    def first_around(
        self, outer: str, outer_params: Sequence[Any], /, **values: Any
    ) -> tuple[T | None, list[tuple[Any, ...]]]:
        """`first()` and, in the same statement, rows of more columns that belong with it.

        `outer` is SQL that reads the read as a table: `SELECT q.*, … FROM ({inner}) q …`,
        the read's columns first, then its own; its parameters (`outer_params`) come after
        the read's. Gives the read's first row made as `first()` makes it (None if there is
        none) and the extra columns of every row, in `outer`'s order. A join that finds
        several rows for the one read row gives several tuples (no list parameters)."""
        if self.lists:
            raise NotCompilable("first_around takes no list parameters")
        shape = self._shape()
        connection = connections[self.using]
        key = (shape.sql, outer)
        sql = _AROUND.get(key) or _AROUND.setdefault(key, outer.replace("{inner}", shape.sql))
        with connection.cursor() as cursor:
            cursor.execute(sql, [*_params(shape, values), *outer_params])
            rows: Sequence[Any] = cursor.fetchall()
        if not rows:
            return None, []
        first = _convert(rows[0], shape, connection) if shape.converters else rows[0]
        return shape.make(first), [tuple(row[shape.width :]) for row in rows]

    # Compiling ----------------------------------------------------------------------------

    def _shape(self, variant: Hashable = None, lengths: tuple[int, ...] = ()) -> _Shape:
        key = (connections[self.using].vendor, variant, lengths)
        shape = self._shapes.get(key)
        if shape is None:
            with self._lock:
                shape = self._shapes.get(key) or self._compile(variant, lengths)
                if len(self._shapes) < _WINDOWS_KEPT or (variant is None and not lengths):
                    self._shapes[key] = shape
        return shape

    def _compile(self, variant: Hashable, lengths: tuple[int, ...] = ()) -> _Shape:
        stand_ins: dict[str, Any] = {}
        each: dict[tuple[str, int | None], Any] = {}  # every stand-in value, by name and position
        length = dict(zip(self.lists, lengths, strict=True))
        for index, (name, kind) in enumerate(self.kinds.items()):
            if name in length:
                (item,) = get_args(kind) or (None,)
                values = [
                    _stand_in(name, item, (index + 1) * _LIST_SPAN + position)
                    for position in range(length[name])
                ]
                stand_ins[name] = values
                each.update(((name, position), v) for position, v in enumerate(values))
            else:
                stand_ins[name] = each[name, None] = _stand_in(name, kind, index)
        queryset = self.build(**stand_ins).using(self.using)
        if variant == "count":
            queryset = queryset.order_by().values_list("pk")
        elif isinstance(variant, tuple):
            queryset = queryset[variant[0] : variant[1]]
        query = queryset.query
        iterable = queryset._iterable_class
        if query.extra_select or query.annotation_select:
            raise NotCompilable("annotations and extra selects are not supported")
        if queryset._known_related_objects:  # type: ignore[attr-defined]
            raise NotCompilable("build it from the model's manager, not a related manager")
        if queryset._prefetch_related_lookups:  # type: ignore[attr-defined]
            raise NotCompilable("prefetch_related is not supported")
        compiler = query.get_compiler(using=self.using)
        # select_for_update is checked at compile time against the connection's autocommit;
        # the read is always run where its caller put it, so compile it as if in a block.
        if query.select_for_update:
            compiler.connection = _InBlock(compiler.connection)
        sql, params = compiler.as_sql()
        if variant == "count":
            sql = f"SELECT COUNT(*) FROM ({sql}) ocsc_counted"  # noqa: S608 - Django's own SQL
        ops = connections[self.using].ops
        # What each stand-in became in the SQL's parameters: itself, or a moment or a day as
        # the database adapts it (text on SQLite).
        adapters: dict[type, Callable[[Any], Any]] = {
            datetime: ops.adapt_datetimefield_value,
            date: ops.adapt_datefield_value,
        }
        if not connections[self.using].features.has_native_uuid_field:
            adapters[UUID] = _uuid_hex  # as UUIDField writes it (SQLite: 32 hex digits)
        adapted = {
            slot: (adapter(v), adapter) if (adapter := adapters.get(type(v))) else (v, None)
            for slot, v in each.items()
        }
        slots: list[tuple[str | None, int | None, Any]] = []
        seen: set[tuple[str, int | None]] = set()
        for param in params:
            found = next(
                (s for s, (v, _) in adapted.items() if type(param) is type(v) and param == v),
                None,
            )
            if found is None:
                slots.append((None, None, param))
            else:
                seen.add(found)
                slots.append((found[0], found[1], adapted[found][1]))
        missing = {name for name, _ in set(each) - seen}
        if missing:
            raise NotCompilable(
                f"parameter(s) {', '.join(sorted(missing))} did not reach the SQL as given "
                "(only whole numbers, text, moments, days and UUIDs compared as they are, or "
                "lists of whole numbers, text or UUIDs, can be substituted)"
            )
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        if compiler.has_composite_fields(fields):
            raise NotCompilable("composite fields are not supported")
        converters = tuple(
            (position, tuple(functions), expression)
            for position, (functions, expression) in compiler.get_converters(fields).items()
        )
        if variant == "count":
            converters = ()  # one whole number, not the rows' columns
        width = 1 if variant == "count" else compiler.col_count
        shape = partial(_Shape, sql, tuple(slots), converters, width=width)
        if iterable is FlatValuesListIterable or variant == "count":
            return shape(operator.itemgetter(0))
        if iterable is ValuesListIterable:
            columns: int = compiler.col_count
            return shape(lambda row: tuple(row[:columns]))
        if iterable is not ModelIterable:
            raise NotCompilable(f"{iterable.__name__} is not supported")
        return shape(self._maker(queryset, compiler))

    def _maker(self, queryset: QuerySet[Any, Any], compiler: Any) -> Callable[..., Model]:
        """Rows into model instances with their related objects, as ModelIterable does."""
        fetch_mode = queryset._fetch_mode  # type: ignore[attr-defined]
        if fetch_mode.track_peers:
            raise NotCompilable("fetch modes that track peers are not supported")
        klass_info = compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        model: type[Model] = klass_info["model"]
        names = [f[0].target.attname for f in compiler.select[start:end]]
        populators = get_related_populators(klass_info, compiler.select, self.using, fetch_mode)
        using = self.using

        def make(row: Sequence[Any]) -> Model:
            obj = model.from_db(using, names, row[start:end], fetch_mode=fetch_mode)
            for populator in populators:
                populator.populate(row, obj)
            return obj

        return make


def padded[V](items: Sequence[V]) -> list[V]:
    """`items` made up to the next power of two with copies of the last, for an `IN` list:
    the same rows, in a statement of one of a few lengths. Each statement is prepared and
    planned apart on each connection: the worker's ten-table read of a batch of Events,
    planned anew for every batch size it met (5 to 15 ms a plan), cost PostgreSQL more to
    plan than to run."""
    size = 1 << max(len(items) - 1, 0).bit_length()
    return [*items, *[items[-1]] * (size - len(items))]


def _stand_in(name: str, kind: Any, index: int) -> Any:
    """A value of `kind` unlike any a read is given, different for each `index`."""
    if kind in (int, "int"):
        return _INT_BASE + index
    if kind in (str, "str"):
        return _TEXT.format(index)
    if kind in (datetime, "datetime"):
        return _MOMENT + timedelta(microseconds=index)
    if kind in (date, "date"):
        return _DAY + timedelta(days=index)
    if kind in (UUID, "UUID"):
        return UUID(int=_INT_BASE + index)
    raise NotCompilable(
        f"parameter {name}: annotate it as int, str, datetime, date, UUID, or a list of int, "
        "str or UUID"
    )


def _uuid_hex(value: UUID) -> str:
    return value.hex


def _params(shape: _Shape, values: Mapping[str, Any]) -> list[Any]:
    """The SQL's parameters for these values: each slot's constant, or its value (adapted)."""
    params = []
    for name, position, constant in shape.slots:
        if name is None:
            params.append(constant)
            continue
        value = values[name] if position is None else values[name][position]
        params.append(constant(value) if constant else value)
    return params


def _convert(row: Sequence[Any], shape: _Shape, connection: Any) -> list[Any]:
    converted = list(row)
    for position, functions, expression in shape.converters:
        value = converted[position]
        for function in functions:
            value = function(value, expression, connection)
        converted[position] = value
    return converted


class _InBlock:
    """A connection that says it is in a transaction, for compiling select_for_update."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def get_autocommit(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


# Inserting --------------------------------------------------------------------------------

_INSERTS: dict[tuple[str, type[Model], int, bool, str], str] = {}


def insert[M: Model](
    objs: Sequence[M], *, ignore_conflicts: bool = False, returning: str = "pk"
) -> list[M]:
    """Insert new instances of one model in one statement whose SQL is built once per model
    and database (and on SQLite row count), and return those inserted with their primary
    keys set.

    `Model.save()` and `bulk_create()` build the INSERT anew each time: for a notification's
    twenty columns that was most of the dispatch's CPU. Values are prepared by the fields
    themselves (`pre_save`, then `get_db_prep_save`), as Django does; no signals are sent.
    With `ignore_conflicts`, rows that would break a unique constraint are left out, and
    `returning` names a unique field by which the inserted rows are told apart."""
    if not objs:
        return []
    model = type(objs[0])
    connection = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    # Every column but a generated one and an auto-incremented key (a UUID key is given).
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
    pk = meta.pk
    assert pk is not None  # noqa: S101 - every model has one
    key_field: Any = pk if returning == "pk" else meta.get_field(returning)
    # On PostgreSQL several rows go as one array per column (as bulk_create does): one SQL
    # for any number of rows, prepared once, where a VALUES list of each length was parsed
    # anew (psycopg prepares no statement of more than 50 parameters).
    arrays = len(objs) > 1 and connection.vendor == "postgresql"
    shape = (connection.vendor, model, 0 if arrays else len(objs), ignore_conflicts, returning)
    sql = _INSERTS.get(shape)
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(str(f.column)) for f in fields)
        if arrays:
            # The types without their sizes (varchar[], not varchar(50)[]), as Django does.
            types = [str(f.db_type(connection)).split("(")[0] for f in fields]
            arrays_sql = ", ".join(f"%s::{t}[]" for t in types)
            rows = f"SELECT * FROM unnest({arrays_sql})"  # noqa: S608 - the model's types
        else:
            row = "(" + ", ".join(["%s"] * len(fields)) + ")"
            rows = "VALUES " + ", ".join([row] * len(objs))
        sql = " ".join(
            [
                f"INSERT INTO {quote(meta.db_table)} ({columns})",
                rows,
                "ON CONFLICT DO NOTHING" if ignore_conflicts else "",
                f"RETURNING {quote(str(pk.column))}, {quote(str(key_field.column))}",
            ]
        )
        _INSERTS[shape] = sql
    values = [
        [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objs
    ]
    if arrays:
        params = [list(column) for column in zip(*values, strict=True)]
    else:
        params = [value for row in values for value in row]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # (A UUID comes back as text on SQLite: to_python makes it what the instance holds.)
    by_key = {key_field.to_python(value): pk_value for pk_value, value in rows}
    inserted: list[M] = []
    for obj in objs:
        value = getattr(obj, key_field.attname) if key_field is not pk else None
        pk_value = rows[len(inserted)][0] if key_field is pk else by_key.get(value)
        if pk_value is None:
            continue
        obj.pk = pk_value
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS
        inserted.append(obj)
    return inserted


# Updating ---------------------------------------------------------------------------------

_UPDATES: dict[tuple[str, type[Model], tuple[str, ...], tuple[tuple[str, int], ...]], str] = {}


def update(model: type[Model], where: Mapping[str, Any], /, **values: Any) -> int:
    """`UPDATE` the rows of `model` whose fields equal `where` (None: IS NULL; a list: IN,
    which must not be empty) with `values`, in SQL built once per model, field names, list
    lengths and database; returns how many rows changed.

    `QuerySet.filter(…).update(…)` builds and compiles the query each time: a third of a
    millisecond for the one-row updates every action makes. Values are plain values or model
    instances (for a foreign key), prepared by the fields as `update()` does; an expression
    (F, Case) is refused. No signals are sent, as with `update()`."""
    sql, params = update_sql(model, where, values)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


type Change = tuple[type[Model], Mapping[str, Any], Mapping[str, Any]]

_TOGETHER: dict[tuple[str, ...], str] = {}


def updates(*changes: Change) -> list[int]:
    """Several `update()`s, each `(model, where, values)`; how many rows each changed.

    On PostgreSQL they go as one statement, each a data-modifying `WITH` that counts its rows
    (one round trip and, outside a transaction, one commit): all of them see the rows as
    they were before the statement, so no two may change the same row, and none sees what
    another wrote. Elsewhere they run one after another, in the order given."""
    statements = [update_sql(model, where, values) for model, where, values in changes]
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or len(statements) == 1:
            counts = []
            for sql, params in statements:
                cursor.execute(sql, params)
                counts.append(int(cursor.rowcount))
            return counts
        key = tuple(sql for sql, _ in statements)
        together = _TOGETHER.get(key)
        if together is None:
            names = [f"ocsc_changed_{n}" for n in range(len(key))]
            clauses = ", ".join(
                f"{n} AS ({sql} RETURNING 1)" for n, sql in zip(names, key, strict=True)
            )
            tally = ", ".join(f"(SELECT COUNT(*) FROM {n})" for n in names)  # noqa: S608 - our names
            together = _TOGETHER.setdefault(key, f"WITH {clauses} SELECT {tally}")  # noqa: S608 - the models' names
        cursor.execute(together, [param for _, params in statements for param in params])
        (row,) = cursor.fetchall()
    return [int(count) for count in row]


def update_sql(
    model: type[Model], where: Mapping[str, Any], values: Mapping[str, Any]
) -> tuple[str, list[Any]]:
    """`update()`'s statement and its parameters, for a caller that runs it inside one of its
    own: `UPDATE <table> SET <column> = %s, … WHERE <conditions>`."""
    connection = connections[DEFAULT_DB_ALIAS]
    meta = model._meta

    def field(name: str) -> Any:
        return meta.pk if name == "pk" else meta.get_field(name)

    def plain(value: Any) -> Any:
        if hasattr(value, "resolve_expression"):
            raise TypeError(f"compiled.update takes values, not expressions ({value!r})")
        return value.pk if isinstance(value, Model) else value

    if any(isinstance(value, list) and not value for value in where.values()):
        raise ValueError(f"compiled.update: an empty list for {model.__name__} rows")
    where = {n: padded(v) if isinstance(v, list) else v for n, v in where.items()}
    # Per condition: -1 for IS NULL, 0 for =, or the length of an IN's list.
    kinds = tuple(
        (name, -1 if value is None else len(value) if isinstance(value, list) else 0)
        for name, value in where.items()
    )
    shape = (connection.vendor, model, tuple(values), kinds)
    sql = _UPDATES.get(shape)
    if sql is None:
        quote = connection.ops.quote_name

        def condition(name: str, kind: int) -> str:
            column = quote(field(name).column)
            if kind < 0:
                return f"{column} IS NULL"
            return f"{column} IN ({', '.join(['%s'] * kind)})" if kind else f"{column} = %s"

        assignments = ", ".join(f"{quote(field(name).column)} = %s" for name in values)
        conditions = " AND ".join(condition(name, kind) for name, kind in kinds)
        sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {conditions}"  # noqa: S608 - the model's names
        _UPDATES[shape] = sql
    params = [field(n).get_db_prep_save(plain(v), connection) for n, v in values.items()]
    for name, value in where.items():
        for each in value if isinstance(value, list) else [] if value is None else [value]:
            params.append(field(name).get_db_prep_value(plain(each), connection))
    return sql, params


def update_fields(obj: Model, *names: str) -> int:
    """`obj.save(update_fields=names)` on SQL built once (`update`): the row of `obj` gets
    those fields' values from `obj`."""
    return update(type(obj), {"pk": obj.pk}, **{name: getattr(obj, name) for name in names})
