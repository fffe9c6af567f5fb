"""The admin issues a key and shows it once, and revokes keys from the list."""

import hashlib
import re

import pytest
from django.test import Client

from ocsc.accounts.models import User
from ocsc.clients.actions import client_named, issue_key, use_key
from ocsc.clients.models import ApiClient, ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("03000000001", "pw-admin-2026", name="Root"))
    return client


def test_a_key_is_issued_and_shown_once(admin_client: Client) -> None:
    app = client_named("Mardan Civic App")

    form = admin_client.get(f"/admin/clients/apikey/add/?client={app.pk}")
    issued = admin_client.post(
        "/admin/clients/apikey/add/", {"client": app.pk, "rate_per_minute": 120}
    )

    assert form.status_code == 200
    assert f'<option value="{app.pk}" selected>Mardan Civic App</option>' in form.content.decode()
    assert issued.status_code == 200
    found = re.search(r'<code id="api-key"[^>]*>(ocsck_[\w-]+)</code>', issued.content.decode())
    assert found is not None
    raw = found[1]
    key = ApiKey.objects.get()
    assert (key.client, key.rate_per_minute) == (app, 120)
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert use_key(raw) == key
    for page in (
        f"/admin/clients/apikey/{key.pk}/change/",
        "/admin/clients/apikey/",
        f"/admin/clients/apiclient/{app.pk}/change/",
    ):
        shown = admin_client.get(page)
        assert shown.status_code == 200
        assert key.prefix in shown.content.decode()
        assert raw not in shown.content.decode()


def test_a_wrong_rate_issues_nothing(admin_client: Client) -> None:
    app = client_named("App")

    response = admin_client.post(
        "/admin/clients/apikey/add/", {"client": app.pk, "rate_per_minute": 0}
    )

    assert response.status_code == 200
    assert "greater than or equal to 1" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_keys_are_revoked_from_the_list(admin_client: Client) -> None:
    app = client_named("App")
    key, raw = issue_key(app, rate_per_minute=5)
    kept, _raw = issue_key(app, rate_per_minute=5)

    response = admin_client.post(
        "/admin/clients/apikey/", {"action": "revoke", "_selected_action": [key.pk]}
    )

    assert response.status_code == 302
    key.refresh_from_db()
    kept.refresh_from_db()
    assert key.revoked_at is not None and kept.revoked_at is None
    assert admin_client.get(f"/admin/clients/apikey/{key.pk}/delete/").status_code == 403


def test_staff_without_rights_cannot_issue_keys() -> None:
    clerk = User.objects.create_user("03001234568", "pw-clerk-2026", name="Kamran", is_staff=True)
    client = Client()
    client.force_login(clerk)
    app = ApiClient.objects.create(name="App")

    response = client.post("/admin/clients/apikey/add/", {"client": app.pk, "rate_per_minute": 5})

    assert response.status_code == 403
    assert not ApiKey.objects.exists()
