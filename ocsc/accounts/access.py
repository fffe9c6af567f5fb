"""Who may see and who may act, decided from postings, in this one place.

- citizens see and act only on their own applications;
- officials see their organization's applications within their posting's area (its
  jurisdiction subtree, or all of it) and act on steps owned by their role or a role that
  reports to it; heads, at the top of the chain, act on all;
- monitors (and superusers) read everything and change nothing;
- internal notes are for officials of the organization and monitors, never for citizens.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from ocsc.accounts.models import Posting, User
from ocsc.workflow import CITIZEN


@dataclass(frozen=True)
class Scope:
    """One active posting: a role in an organization, for an area (None: all of it)."""

    organization_id: int
    role: str
    area_path: str | None
    head: bool = False  # the role heads the organization
    supervises: bool = False  # other roles report to it

    def covers(self, organization_id: int, jurisdiction_path: str) -> bool:
        return self.organization_id == organization_id and (
            self.area_path is None or jurisdiction_path.startswith(self.area_path)
        )


def active_postings(user: User, *, on: date | None = None) -> QuerySet[Posting]:
    day = on or timezone.localdate()
    return Posting.objects.filter(user=user, starts_on__lte=day).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=day)
    )


# scopes(): the postings active on a day, as `active_postings` selects them, with what
# `Scope` needs (tests/accounts check that both agree).
SCOPE_COLUMNS = """p.organization_id, r.code, j.path, r.head,
       EXISTS (SELECT 1 FROM catalog_role b WHERE b.reports_to_id = p.role_id)"""
ACTIVE_ON = "p.starts_on <= %s AND (p.ends_on IS NULL OR p.ends_on >= %s)"
SCOPE_ORDER = "p.organization_id, r.code, p.id"
SCOPES_SQL = f"""
SELECT {SCOPE_COLUMNS}
FROM accounts_posting p
JOIN catalog_role r ON r.id = p.role_id
LEFT JOIN catalog_jurisdiction j ON j.id = p.jurisdiction_id
WHERE p.user_id = %s AND {ACTIVE_ON}
ORDER BY {SCOPE_ORDER}
"""  # noqa: S608 - constants


def with_scopes(user_id_column: str) -> str:
    """SQL for `Compiled.first_around`: a read of one row (a token, a user) with the active
    postings of the user it names in `user_id_column`, a row each (one row of nulls for
    none), so that a call that reads the one also has the other, in one statement. Its
    parameters: `scope_params()`; its extra columns go to `keep_scopes`."""
    return f"""
SELECT q.*, {SCOPE_COLUMNS}
FROM ({{inner}}) q
LEFT JOIN (accounts_posting p JOIN catalog_role r ON r.id = p.role_id)
  ON p.user_id = q.{user_id_column} AND {ACTIVE_ON}
LEFT JOIN catalog_jurisdiction j ON j.id = p.jurisdiction_id
ORDER BY {SCOPE_ORDER}
"""  # noqa: S608 - constants


def scope_params() -> list[Any]:
    """The parameters of `SCOPES_SQL`'s and `with_scopes`'s day: today."""
    day = connection.ops.adapt_datefield_value(timezone.localdate())
    return [day, day]


def keep_scopes(user: User, rows: Iterable[Sequence[Any]]) -> list[Scope]:
    """The user's scopes from rows of `SCOPE_COLUMNS` (a row of nulls: no posting), kept on
    the user object as `scopes()` keeps what it reads."""
    found = [
        Scope(organization, role, path, bool(head), bool(supervises))
        for organization, role, path, head, supervises in rows
        if organization is not None
    ]
    user._ocsc_scopes = found  # type: ignore[attr-defined]
    return found


def scopes(user: User) -> list[Scope]:
    """The user's active postings, read once per user object (one query).

    Nearly every request asks (who may see, who may act), so this one is written in SQL: the
    ORM took 1.4 ms to compile it, 40 times as long as running it (bench/README.md). It
    selects what `active_postings` does."""
    cached: list[Scope] | None = getattr(user, "_ocsc_scopes", None)
    if cached is None:
        with connection.cursor() as cursor:
            cursor.execute(SCOPES_SQL, [user.pk, *scope_params()])
            cached = keep_scopes(user, cursor.fetchall())
    return cached


def is_reader(user: User) -> bool:
    """Monitors and superusers read every application."""
    return user.is_active and (user.is_monitor or user.is_superuser)


def official_roles(user: User, *, organization_id: int, jurisdiction_path: str) -> set[str]:
    """The roles the user holds for an application in this organization and place."""
    return {s.role for s in scopes(user) if s.covers(organization_id, jurisdiction_path)}


def roles_for(
    user: User, *, organization_id: int, jurisdiction_path: str, applicant_id: int
) -> set[str]:
    """The capacities in which the user may act on such an application: role codes, and
    `citizen` for the applicant."""
    if not user.is_authenticated or not user.is_active:
        return set()
    roles = official_roles(
        user, organization_id=organization_id, jurisdiction_path=jurisdiction_path
    )
    if user.pk == applicant_id:
        roles.add(CITIZEN)
    return roles


def may_see(user: User, *, organization_id: int, jurisdiction_path: str, applicant_id: int) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return (
        user.pk == applicant_id
        or is_reader(user)
        or any(s.covers(organization_id, jurisdiction_path) for s in scopes(user))
    )


def sees_internal_notes(user: User, *, organization_id: int, jurisdiction_path: str) -> bool:
    return is_reader(user) or bool(
        official_roles(user, organization_id=organization_id, jurisdiction_path=jurisdiction_path)
    )


def visible_filter(user: User, *, prefix: str = "") -> Q:
    """A filter on applications (or rows reached through `prefix`) that the user may see."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if is_reader(user):
        return Q()
    condition = Q(**{f"{prefix}citizen": user})
    for scope in scopes(user):
        area = Q(**{f"{prefix}organization_id": scope.organization_id})
        if scope.area_path is not None:
            area &= Q(**{f"{prefix}jurisdiction__path__startswith": scope.area_path})
        condition |= area
    return condition


def insight_organizations(user: User) -> list[int]:
    """The organizations whose figures the user may read: all for monitors, and for heads
    and supervisors (roles others report to) their own organizations."""
    if not user.is_authenticated or not user.is_active:
        return []
    from ocsc.catalog.models import Organization

    if is_reader(user):
        return list(Organization.objects.values_list("pk", flat=True))
    return sorted({s.organization_id for s in scopes(user) if s.head or s.supervises})


def staff_links(user: User) -> dict[str, bool]:
    """Which staff pages to offer in the navigation, from the postings read once."""
    if not user.is_authenticated or not user.is_active:
        return {}
    found = scopes(user)
    reader = is_reader(user)
    return {
        "queue": bool(found),
        "insights": reader or any(s.head or s.supervises for s in found),
        "processes": reader or any(s.head for s in found),
    }


def is_official(user: User) -> bool:
    """Holds an active posting: may open the staff workspace."""
    return user.is_authenticated and user.is_active and bool(scopes(user))


# Organization administration (the process page) ------------------------------------------


def administers(user: User, *, organization_id: int) -> bool:
    """Organization administrators: the head of the organization (an active posting in a role
    with `head: true`) and superusers. They edit and publish the organization's processes."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(s.head and s.organization_id == organization_id for s in scopes(user))


def may_view_processes(user: User, *, organization_id: int) -> bool:
    """The organization's administrators, and monitors, who read every organization's
    processes and versions but publish nothing."""
    if not user.is_authenticated or not user.is_active:
        return False
    return is_reader(user) or administers(user, organization_id=organization_id)


def process_organizations_filter(user: User) -> Q:
    """A filter on organizations whose processes the user may view (see may_view_processes)."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if is_reader(user):
        return Q()
    return Q(pk__in=[s.organization_id for s in scopes(user) if s.head])
