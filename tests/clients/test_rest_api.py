"""The REST API's public catalog takes an optional X-API-Key: counted and noted as used."""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from ocsc.clients.actions import client_named, issue_key, revoke_key
from tests.personas import People

pytestmark = pytest.mark.django_db


def test_the_catalog_is_open_without_a_key(people: People) -> None:
    response = Client().get("/api/v1/services")

    assert response.status_code == 200
    assert len(response.json()) == 3


def test_a_key_on_the_catalog_is_counted_and_noted(people: People) -> None:
    key, raw = issue_key(client_named("App"), rate_per_minute=2)
    app = Client(headers={"X-API-Key": raw})
    with time_machine.travel(datetime(2026, 12, 7, 5, 0, 40, tzinfo=UTC), tick=False):
        first = app.get("/api/v1/organizations")
        second = app.get("/api/v1/services", category="complaint")
        third = app.get("/api/v1/jurisdictions")

    assert (first.status_code, second.status_code) == (200, 200)
    assert third.status_code == 429
    assert third["Retry-After"] == "20"
    assert third.json()["code"] == "too_many_requests"
    key.refresh_from_db()
    assert key.last_used_at == datetime(2026, 12, 7, 5, 0, 40, tzinfo=UTC)


@pytest.mark.parametrize("how", ["unknown", "revoked"])
def test_a_wrong_key_is_refused(people: People, how: str) -> None:
    key, raw = issue_key(client_named("App"), rate_per_minute=5)
    if how == "revoked":
        revoke_key(key)
    else:
        raw = raw[:-4] + "AAAA"

    response = Client(headers={"X-API-Key": raw}).get("/api/v1/services")

    assert response.status_code == 401
    assert json.loads(response.content)["code"] == "bad_api_key"


def test_a_key_does_not_sign_anyone_in(people: People) -> None:
    raw = issue_key(client_named("App"), rate_per_minute=5)[1]

    response = Client(headers={"X-API-Key": raw}).get("/api/v1/applications")

    assert response.status_code == 401
