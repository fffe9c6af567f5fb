"""List endpoints run the same number of SQL queries for 5 applications as for 50.

The queries: the bearer token (with the caller's postings), its last-used note, the page, the
count (which a person's own list knows without asking when the page is not full).
"""

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ocsc.cases.actions import submit_application
from ocsc.catalog.models import Jurisdiction, Service
from tests.api.conftest import Api
from tests.personas import People

NumQueries = Callable[[int], AbstractContextManager[object]]


def complaints(people: People, count: int) -> None:
    """`count` garbage complaints from Ayesha (the real action), each with the sub-engineer."""
    service = Service.objects.get(organization__code="tma-mardan", code="garbage-complaint")
    place = Jurisdiction.objects.get(code="kp-mardan-mardan-nc-1")
    for n in range(count):
        submit_application(
            citizen=people.ayesha,
            service=service,
            jurisdiction=place,
            data={"location": {"lat": 34.2, "lng": 72.04, "address": f"Street {n}"}},
            channel="mobile",
        )


@pytest.mark.parametrize(
    ("persona", "path", "queries"),
    [
        # The token with its user's postings, the token's first use noted, the page, its count.
        ("ayesha", "/applications", 4),  # her own
        ("sana", "/applications", 4),  # her organization's
        ("maryam", "/applications", 4),  # all
        ("sana", "/queue", 4),
    ],
)
def test_a_list_costs_the_same_for_5_and_50(
    people: People,
    django_assert_num_queries: NumQueries,
    persona: str,
    path: str,
    queries: int,
) -> None:
    complaints(people, 5)
    caller = getattr(people, persona)
    first, second = Api(caller), Api(caller)  # each token is noted as used on its first call
    with django_assert_num_queries(queries):
        five = first.get(path, limit=5)  # a full page: the count is asked
    assert (five.status_code, five.json()["count"], len(five.json()["items"])) == (200, 5, 5)

    complaints(people, 45)
    with django_assert_num_queries(queries):
        fifty = second.get(path, limit=50)
    assert (fifty.status_code, fifty.json()["count"], len(fifty.json()["items"])) == (200, 50, 50)
    item = fifty.json()["items"][0]
    assert (item["step_name"] if path == "/queue" else item["step"]["name"]) == {"en": "Inspection"}


def test_a_citizens_list_reads_only_what_its_items_show(
    people: People, django_assert_num_queries: NumQueries
) -> None:
    """Her page of applications leaves their data and the services' forms and requirements
    unread (JSON decoded for every row, for nothing), and still shows every item whole."""
    complaints(people, 3)
    api = Api(people.ayesha)
    api.get("/applications")  # the token's first use is noted once
    with django_assert_num_queries(2) as captured:  # the token, the page (not full: no count)
        listed = api.get("/applications")
    assert listed.json()["count"] == 3
    selects = [q["sql"] for q in captured.captured_queries]
    (page,) = [sql for sql in selects if sql.startswith('SELECT "cases_application"')]
    for column in ('"cases_application"."data"', '"catalog_service"."fields"'):
        assert column not in page
    item = listed.json()["items"][0]
    assert item["service"]["code"] == "garbage-complaint"
    assert item["service"]["name"]["en"] == "Garbage not collected"
    assert item["organization"]["code"] == "tma-mardan" and item["organization"]["name"]["en"]
    assert item["jurisdiction"]["code"] == "kp-mardan-mardan-nc-1"
    assert item["jurisdiction"]["name"]["en"]
    assert item["step"]["name"] == {"en": "Inspection"} and item["step"]["entered_at"]
    assert not item["overdue"]


@pytest.mark.parametrize(
    ("offset", "limit", "shown", "counted"),
    [
        (0, 10, 7, False),  # the whole list on one page
        (5, 5, 2, False),  # the last page, not full
        (0, 7, 7, True),  # a full page: there may be more
        (0, 3, 3, True),
        (10, 5, 0, True),  # past the end: nothing tells how many there are
    ],
)
def test_a_persons_own_list_counts_only_when_its_page_cannot_tell(
    people: People, offset: int, limit: int, shown: int, counted: bool
) -> None:
    complaints(people, 7)
    api = Api(people.ayesha)
    api.get("/applications")  # the token's first use is noted once
    with CaptureQueriesContext(connection) as queries:
        listed = api.get("/applications", offset=offset, limit=limit)
    assert listed.status_code == 200
    assert (listed.json()["count"], len(listed.json()["items"])) == (7, shown)
    assert any("COUNT(*)" in q["sql"] for q in queries.captured_queries) is counted
