"""An organization kind's roles are read once per process while none changes: the kind's
`roles_key`, read with the application, is drawn anew by any change of a role."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ocsc.cases.access import RoleInfo, access_application, roles_here
from ocsc.cases.models import Application
from ocsc.catalog.models import Organization, OrganizationKind, Role
from tests.personas import People, water_connection

pytestmark = pytest.mark.django_db


def _roles_read(application: Application) -> tuple[dict[str, RoleInfo], int]:
    """The roles for the application, and how many statements reading them took."""
    with CaptureQueriesContext(connection) as queries:
        found = roles_here(application)
    return dict(found), len(queries)


def _fresh(people: People, tracking_no: str) -> Application:
    """The application as a request reads it (with its organization's kind)."""
    return access_application(people.kamran, tracking_no)


def test_a_second_application_of_the_same_kind_reads_no_roles(people: People) -> None:
    first, second = water_connection(people), water_connection(people)
    roles, _ = _roles_read(_fresh(people, first.tracking_no))
    again, statements = _roles_read(_fresh(people, second.tracking_no))
    assert statements == 0
    assert again == roles and {"clerk", "tmo"} <= set(roles)


def test_a_renamed_role_shows_at_the_next_call(people: People) -> None:
    application = water_connection(people)
    _roles_read(_fresh(people, application.tracking_no))
    clerk = Role.objects.get(kind__code="tma", code="clerk")
    clerk.name = {"en": "Dealing assistant"}
    clerk.save()

    roles, statements = _roles_read(_fresh(people, application.tracking_no))

    assert statements == 1
    assert roles["clerk"].name == {"en": "Dealing assistant"}


def test_adding_moving_and_deleting_a_role_each_draw_a_new_key(people: People) -> None:
    tma = OrganizationKind.objects.get(code="tma")

    def key() -> object:
        return OrganizationKind.objects.get(pk=tma.pk).roles_key

    keys = [key()]
    role = Role.objects.create(kind=tma, code="driver", name={"en": "Driver"})
    keys.append(key())
    role.reports_to = Role.objects.get(kind=tma, code="clerk")
    role.save(update_fields=["reports_to"])
    keys.append(key())
    role.delete()
    keys.append(key())
    assert len(set(keys)) == 4


def test_an_organization_read_without_its_kind_costs_one_query(people: People) -> None:
    application = water_connection(people)
    _roles_read(_fresh(people, application.tracking_no))  # kept, by the kind's key
    bare = Application.objects.get(pk=application.pk)
    bare.organization = Organization.objects.get(pk=application.organization_id)  # no kind

    roles, statements = _roles_read(bare)

    assert statements == 1  # the roles, not the kind and then the roles
    assert {"clerk", "tmo"} <= set(roles)
