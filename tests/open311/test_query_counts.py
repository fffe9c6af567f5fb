"""The list endpoints run the same number of SQL queries for 5 rows as for 50."""

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from tests.open311.conftest import CATALOG, Open311, garbage
from tests.personas import People

pytestmark = pytest.mark.django_db

NumQueries = Callable[[int], AbstractContextManager[object]]


def test_requests_cost_the_same_for_5_and_50(
    o311: Open311, people: People, django_assert_num_queries: NumQueries
) -> None:
    """The scope (do several organizations offer complaints?), then the page, with its
    status notes and descriptions as subqueries."""
    for _ in range(5):
        garbage(people)
    with django_assert_num_queries(2):
        five = o311.get("/requests.json")
    for _ in range(45):
        garbage(people)
    with django_assert_num_queries(2):
        fifty = o311.get("/requests.xml")

    assert len(json.loads(five.content)) == 5
    assert fifty.content.count(b"<request>") == 50


def test_services_cost_the_same_for_5_and_50(
    o311: Open311, people: People, django_assert_num_queries: NumQueries, tmp_path: Path
) -> None:
    """The organization named by jurisdiction_id, then its services with their processes."""
    with django_assert_num_queries(2):
        few = o311.get("/services.json", jurisdiction_id="tma-mardan")
    catalog = yaml.safe_load(CATALOG.read_text())
    garbage_complaint = next(s for s in catalog["services"] if s["code"] == "garbage-complaint")
    more = [{**garbage_complaint, "code": f"complaint-{n}"} for n in range(48)]
    catalog["services"] += more
    catalog["organizations"][0]["services"] += [s["code"] for s in more]
    bigger = tmp_path / "bigger.yaml"
    bigger.write_text(yaml.safe_dump(catalog, allow_unicode=True))
    call_command("load_catalog", str(bigger), verbosity=0)
    with django_assert_num_queries(2):
        many = o311.get("/services.json", jurisdiction_id="tma-mardan")

    assert len(json.loads(few.content)) == 2
    assert len(json.loads(many.content)) == 50
