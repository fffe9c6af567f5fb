"""Guarded fetches of applications: the same 404 for "missing" and "not yours"."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, cast
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, QuerySet
from django.db.models.expressions import Col
from django.http import Http404
from django.utils.translation import gettext as _

from ocsc.accounts import access
from ocsc.accounts.models import User
from ocsc.cases.models import Application, Attachment, Event
from ocsc.catalog.models import Organization, Role
from ocsc.compiled import Compiled
from ocsc.workflow import CITIZEN, SYSTEM, RoleChart


class NotAllowed(Exception):
    """The user sees the application but may not do this (HTTP 403)."""


_RELATED = ("jurisdiction", "organization__kind", "service", "process", "current_step__assignee")


def _application(tracking_no: str, *also: str) -> QuerySet[Application]:
    # One at most: no ordering (the default one cost 20% of the fetch's CPU).
    rows = Application.objects.select_related(*_RELATED, *also).filter(tracking_no=tracking_no)
    return rows.order_by()[:1]


def _to_read(tracking_no: str) -> QuerySet[Application]:
    return _application(tracking_no)


def _to_write(tracking_no: str) -> QuerySet[Application]:
    """With the organization's calendar, the actions' clock."""
    return _application(tracking_no, "organization__calendar")


_READ = Compiled(_to_read)
_WRITE = Compiled(_to_write)


# An application's attachments, read with it (`with_attachments`): what its answer shows of
# each, and the step of the Event that brought it (the documents an action still needs).
_ATTACHMENT_COLUMNS: tuple[str, ...] = (
    "id",
    "uuid",
    "requirement",
    "filename",
    "content_type",
    "size",
    "created_at",
    "event_id",
)


@cache
def _with_attachments(vendor: str) -> str:
    """The application's read (`{inner}`), each of its attachments on a row of its own."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    columns = ", ".join(f"a.{quote(name)}" for name in _ATTACHMENT_COLUMNS)
    return (  # (S608: the models' table names)
        f"SELECT q.*, {columns}, e.{quote('step_id')} FROM ({{inner}}) q "  # noqa: S608
        f"LEFT JOIN {quote(Attachment._meta.db_table)} a ON a.{quote('application_id')} = "
        f"(SELECT x.{quote('id')} FROM {quote(Application._meta.db_table)} x "
        f"WHERE x.{quote('tracking_no')} = q.{quote('tracking_no')}) "
        f"LEFT JOIN {quote(Event._meta.db_table)} e ON e.{quote('id')} = a.{quote('event_id')} "
        f"ORDER BY a.{quote('created_at')}, a.{quote('id')}"
    )


@cache
def _converters(vendor: str) -> list[tuple[int, list[Callable[..., Any]], Col]]:
    """What Django's compiler would apply to each attachment column read."""
    db = connections[DEFAULT_DB_ALIAS]
    converters = []
    for position, name in enumerate(_ATTACHMENT_COLUMNS):
        field = cast("Field[Any, Any]", Attachment._meta.get_field(name))
        column = field.get_col(Attachment._meta.db_table)
        functions = [*db.ops.get_db_converters(column), *column.get_db_converters(db)]
        if functions:
            converters.append((position, functions, column))
    return converters


def _attachments(application: Application, rows: list[tuple[Any, ...]]) -> list[Attachment]:
    """The attachments of `_with_attachments`' rows (none: one row of NULLs), as Django
    reads them, each with its Event (its id and step only)."""
    db = connections[DEFAULT_DB_ALIAS]
    converters = _converters(db.vendor)
    found = []
    for row in rows:
        if row[0] is None:
            continue
        values = list(row)
        for position, functions, column in converters:
            for function in functions:
                values[position] = function(values[position], column, db)
        attachment = Attachment(**dict(zip(_ATTACHMENT_COLUMNS, values, strict=False)))
        attachment.application = application
        if attachment.event_id is not None:
            attachment.event = Event(pk=attachment.event_id, step_id=values[-1])
        found.append(attachment)
    return found


def access_application(
    user: User, tracking_no: str, *, write: bool = False, with_attachments: bool = False
) -> Application:
    """The application if the user may see it (and, with `write`, change it), else Http404
    (or NotAllowed when they see it but may not write: monitors). With `with_attachments`,
    its attachments come in the same statement (`Application.attachments_known`)."""
    read, number = (_WRITE if write else _READ), tracking_no.strip().upper()
    if with_attachments:
        outer = _with_attachments(connection.vendor)
        application, rows = read.first_around(outer, [], tracking_no=number)
        if application is not None:
            application.attachments_known = _attachments(application, rows)
    else:
        application = read.first(tracking_no=number)
    if application is None or not access.may_see(
        user,
        organization_id=application.organization_id,
        jurisdiction_path=application.jurisdiction.path,
        applicant_id=application.citizen_id,
    ):
        raise Http404("No such application.")
    if write and not roles_of(user, application):
        raise NotAllowed(_("You may read this application but not change it."))
    return application


def roles_of(user: User, application: Application) -> set[str]:
    """The capacities in which `user` may act on this application (role codes, `citizen`)."""
    return access.roles_for(
        user,
        organization_id=application.organization_id,
        jurisdiction_path=application.jurisdiction.path,
        applicant_id=application.citizen_id,
    )


def sees_internal(user: User, application: Application) -> bool:
    return access.sees_internal_notes(
        user,
        organization_id=application.organization_id,
        jurisdiction_path=application.jurisdiction.path,
    )


@dataclass(frozen=True)
class RoleInfo:
    """A role of the application's organization kind, as the chart and the pages need it."""

    reports_to: str | None
    name: dict[str, str]
    duty: dict[str, str]


def _roles(kind_id: int) -> QuerySet[Role, tuple[str, str | None, Any, Any]]:
    return Role.objects.filter(kind_id=kind_id).values_list(
        "code", "reports_to__code", "name", "duty"
    )


_ROLES = Compiled(_roles)


# Roles by (kind, roles_key), kept by the process while the key stands (a role's change
# draws a new one); a few kinds, so a bound only against keys piling up.
_KEPT: dict[tuple[int, UUID], dict[str, RoleInfo]] = {}
_KEPT_MAX = 64


def roles_here(application: Application) -> dict[str, RoleInfo]:
    """The roles of the application's organization kind, by code: kept by the process while
    none changes, where the kind was read with the organization (its `roles_key` tells); read
    once per organization object otherwise (one query), since an action and its answer ask
    for the chart several times."""
    organization = application.organization
    cached: dict[str, RoleInfo] | None = getattr(organization, "_ocsc_roles", None)
    if cached is None:
        key = None
        if Organization.kind.is_cached(organization):
            key = (organization.kind_id, organization.kind.roles_key)
            cached = _KEPT.get(key)
        if cached is None:
            rows = _ROLES.all(kind_id=organization.kind_id)
            cached = {
                code: RoleInfo(boss, name or {}, duty or {}) for code, boss, name, duty in rows
            }
            if key is not None:
                if len(_KEPT) >= _KEPT_MAX:
                    _KEPT.clear()
                _KEPT[key] = cached
        organization._ocsc_roles = cached  # type: ignore[attr-defined]
    return cached


def chart_of(application: Application) -> RoleChart:
    return RoleChart(reports_to={code: r.reports_to for code, r in roles_here(application).items()})


def capacity(roles: set[str], owner: str, chart: RoleChart) -> str:
    """The role in which someone holding `roles` acts on a step owned by `owner`."""
    if SYSTEM in roles:
        return SYSTEM
    if owner in roles:
        return owner
    for boss in chart.chain(owner):
        if boss in roles:
            return boss
    return CITIZEN if CITIZEN in roles else sorted(roles)[0] if roles else ""


def may_assign(user: User, application: Application) -> bool:
    """Supervisors (any role above the owner in the chain) assign an official's open step."""
    step = application.current_step
    if step is None or step.owner_role in ("", CITIZEN):
        return False
    roles = roles_of(user, application)
    return any(boss in roles for boss in chart_of(application).chain(step.owner_role))


def may_withdraw(user: User, application: Application) -> bool:
    """The applicant withdraws an application nobody has decided yet."""
    return user.pk == application.citizen_id and not application.is_closed
