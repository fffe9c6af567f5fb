"""The admin: staff with rights see the catalog; process versions are read-only and validated."""

from typing import Any

import pytest
from django.test import Client

from ocsc.accounts.models import User
from ocsc.catalog.models import ProcessVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user() -> User:
    return User.objects.create_superuser("03000000001", "pw-admin-2026", name="Admin")


@pytest.fixture
def version(mini_catalog: None) -> ProcessVersion:
    return ProcessVersion.objects.get(
        service__organization__code="tma-mardan", service__code="water-connection"
    )


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, version: ProcessVersion) -> None:
    response = client.get(f"/admin/catalog/processversion/{version.pk}/change/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_citizen_cannot_open_the_admin(client: Client, version: ProcessVersion) -> None:
    citizen = User.objects.create_user("03001234567", "pw-citizen-2026", name="Ayesha")
    client.force_login(citizen)
    response = client.get(f"/admin/catalog/processversion/{version.pk}/change/")
    assert response.status_code == 302


def test_staff_without_catalog_rights_are_refused(client: Client, version: ProcessVersion) -> None:
    clerk = User.objects.create_user("03001234568", "pw-clerk-2026", name="Kamran", is_staff=True)
    client.force_login(clerk)
    assert client.get(f"/admin/catalog/processversion/{version.pk}/change/").status_code == 403


def test_a_process_version_is_shown_validated_and_read_only(
    client: Client, admin_user: User, version: ProcessVersion
) -> None:
    client.force_login(admin_user)
    url = f"/admin/catalog/processversion/{version.pk}/change/"

    page = client.get(url).content.decode()

    assert "Valid." in page
    assert "Check that the documents are complete" in page
    assert "forward → site_inspection" in page
    assert "flowchart TD" in page
    assert 'name="_save"' not in page
    assert client.post(url, {"number": 9}).status_code == 403
    version.refresh_from_db()
    assert version.number == 1


def test_admin_lists_open_for_an_administrator(
    client: Client, admin_user: User, mini_catalog: None
) -> None:
    client.force_login(admin_user)
    for model in ("organization", "service", "role", "jurisdiction", "processversion", "calendar"):
        assert client.get(f"/admin/catalog/{model}/").status_code == 200, model


def test_applications_postings_and_the_sms_outbox_open_read_only(
    client: Client, admin_user: User, people: Any
) -> None:
    from tests.personas import water_connection

    application = water_connection(people)
    client.force_login(admin_user)
    for url in (
        "/admin/cases/application/",
        f"/admin/cases/application/{application.pk}/change/",
        "/admin/accounts/posting/",
        "/admin/accounts/apitoken/",
        "/admin/notify/smsmessage/",
    ):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/admin/cases/application/{application.pk}/change/").content.decode()
    assert application.tracking_no in page and 'name="_save"' not in page
    assert client.get("/admin/cases/application/add/").status_code == 403
