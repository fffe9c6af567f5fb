"""Open311 tests: the small catalog plus two complaints (data/open311.yaml), the personas
posted in it, a client's API key, and the app on a loopback port for client libraries."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from ocsc.cases.actions import submit_application
from ocsc.cases.models import Application
from ocsc.catalog.models import Jurisdiction, Service
from ocsc.clients.actions import client_named, issue_key
from tests.personas import People, make_people
from tests.serve import serving

CATALOG = Path(__file__).resolve().parent / "data" / "open311.yaml"
O311 = "/open311/v2"


@pytest.fixture
def people(db: None) -> People:
    """The personas of STYLE.md, in the small catalog with the Open311 complaints."""
    call_command("load_catalog", str(CATALOG), verbosity=0)
    return make_people()


@pytest.fixture
def api_key(people: People) -> str:
    """A key of a civic app, generous enough for any test but the rate limit's."""
    return issue_key(client_named("Mardan Civic App"), rate_per_minute=1000)[1]


def garbage(people: People, *, org: str = "tma-mardan", **overrides: Any) -> Application:
    """Ayesha reports uncollected garbage on the portal."""
    area = {"tma-mardan": "kp-mardan-mardan-nc-1", "tma-takht-bhai": "kp-mardan-takht-bhai"}
    place = {"lat": 34.2, "lng": 72.04, "address": "Bagh-e-Iram chowk"}
    arguments: dict[str, Any] = {
        "citizen": people.ayesha,
        "service": Service.objects.get(organization__code=org, code="garbage-complaint"),
        "jurisdiction": Jurisdiction.objects.get(code=area[org]),
        "data": {"location": place},
        "location": place,
        "channel": "web",
    }
    return submit_application(**{**arguments, **overrides})


class Open311:
    """The Django test client speaking Open311: GETs with a query, POSTs form-encoded."""

    def __init__(self) -> None:
        self.client = Client()

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(O311 + path, params)

    def post(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.post(O311 + path, data)


@pytest.fixture
def o311() -> Open311:
    return Open311()


@pytest.fixture
def server(transactional_db: None, settings: Any) -> Iterator[str]:
    """The whole app on a free loopback port, sharing the test database (as in tests/e2e)."""
    with serving(settings) as url:
        yield url
