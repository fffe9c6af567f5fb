"""A property-based fuzz of the REST API from its own OpenAPI schema (schemathesis): every
operation, with valid and invalid input generated from the schema, as a signed-in citizen;
no answer may be a server error. The examples per operation are few, to keep CI quick."""

import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from ocsc.accounts.actions import issue_token
from tests.personas import People

# A few examples per operation, the same on every run, in CI; `FUZZ_EXAMPLES=500` for a
# longer, random hunt (hypothesis prints the seed to give `--hypothesis-seed` to replay it).
# `FUZZ_AS=sana` signs in as another persona of tests/personas.py.
HUNT = os.environ.get("FUZZ_EXAMPLES")
EXAMPLES = int(HUNT or 12)
PERSONA = os.environ.get("FUZZ_AS", "ayesha")


# The schema served at /api/v1/openapi.json, read and then called in-process through WSGI.
# (Read at import: schemathesis' lazy `from_fixture` does not run on pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())


@pytest.fixture
def in_test_transaction() -> Iterator[None]:
    """Requests run inside the test's transaction, as through Django's test client: the
    handler must not close the connection between requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(people: People) -> dict[str, str]:
    key = issue_token(getattr(people, PERSONA), name="fuzz")[1]
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=HUNT is None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_with_a_server_error(
    case: schemathesis.Case, bearer: dict[str, str], in_test_transaction: None
) -> None:
    case.call_and_validate(headers=bearer, checks=[not_a_server_error])


@pytest.mark.parametrize("path", ["/applications", "/queue"])
def test_an_offset_past_the_databases_integers_is_refused(
    people: People, bearer: dict[str, str], path: str
) -> None:
    """Found by the fuzz: an offset of 2^92 was a server error (SQLite: datatype mismatch)."""
    client = Client(headers=bearer)

    huge = client.get(f"/api/v1{path}", {"offset": 2**92})
    last = client.get(f"/api/v1{path}", {"offset": 2**31 - 1})

    assert huge.status_code == 422
    assert huge.json()["errors"] == {"offset": "Input should be less than or equal to 2147483647"}
    assert (last.status_code, last.json()["items"]) == (200, [])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/services?q=a%00", None),
        ("get", "/services?jurisdiction=kp%00", None),
        ("get", "/organizations/tma%00/services/x", None),
        ("get", "/applications?service=a%00", None),
        ("get", "/applications/MDN%00", None),
        (
            "post",
            "/applications",
            {
                "service": "garbage-complaint",
                "jurisdiction": "kp-mardan-mardan-nc-1",
                "data": {"location": {"address": "Chowk\x00"}},
            },
        ),
    ],
)
def test_a_nul_character_is_no_server_error(
    people: People, bearer: dict[str, str], method: str, path: str, body: object
) -> None:
    """Found fuzzing on PostgreSQL, which takes no NUL in text or jsonb: a 422 there (SQLite
    stores NUL, so there the request is answered as any other)."""
    client = Client(headers=bearer)

    if method == "get":
        response = client.get(f"/api/v1{path}")
    else:
        response = client.post(f"/api/v1{path}", body, content_type="application/json")

    if connection.vendor == "postgresql":
        assert response.status_code == 422
        assert response.json()["detail"] == "Text may not contain NUL characters."
    else:
        assert response.status_code < 500
