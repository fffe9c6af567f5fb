"""GET requests: the spec's filters, the status and its notes, and only complaints."""

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from ocsc.cases.actions import add_comment, take_action
from ocsc.cases.models import Application
from tests.open311.conftest import Open311, garbage
from tests.personas import People, water_connection

pytestmark = pytest.mark.django_db

PKT = ZoneInfo("Asia/Karachi")


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["service_request_id"] for row in json.loads(response.content)]


def fresh(application: Application) -> Application:
    return Application.objects.select_related("current_step", "organization", "process").get(
        pk=application.pk
    )


def test_status_and_notes_follow_the_timeline(o311: Open311, people: People) -> None:
    complaint = garbage(people)
    add_comment(fresh(complaint), actor=people.ayesha, text="Please hurry, it smells.")
    add_comment(fresh(complaint), actor=people.sana, text="The crew is on its way.")
    add_comment(fresh(complaint), actor=people.tariq, text="Sack the crew.", internal=True)
    path = f"/requests/{complaint.tracking_no}.json"

    on_the_way = json.loads(o311.get(path).content)[0]
    take_action(fresh(complaint), actor=people.sana, action="resolve", comment="Lifted at 9.")
    resolved = json.loads(o311.get(path).content)[0]

    assert (on_the_way["status"], on_the_way["status_notes"]) == (
        "open",
        "The crew is on its way.",
    )
    assert on_the_way["description"] == "Please hurry, it smells."
    assert (resolved["status"], resolved["status_notes"]) == ("closed", "Lifted at 9.")
    assert resolved["updated_datetime"] >= on_the_way["updated_datetime"]


def test_filters_by_status_code_id_and_organization(o311: Open311, people: People) -> None:
    mardan = [garbage(people).tracking_no for _ in range(2)]
    takht_bhai = garbage(people, org="tma-takht-bhai").tracking_no
    water_connection(people)  # an application, not a complaint: never listed
    take_action(
        fresh(Application.objects.get(tracking_no=mardan[0])), actor=people.sana, action="resolve"
    )

    assert ids(o311.get("/requests.json")) == [takht_bhai, mardan[1], mardan[0]]
    assert ids(o311.get("/requests.json", status="open")) == [takht_bhai, mardan[1]]
    assert ids(o311.get("/requests.json", status="closed")) == [mardan[0]]
    assert ids(o311.get("/requests.json", status="open,closed")) == [
        takht_bhai,
        mardan[1],
        mardan[0],
    ]
    assert ids(o311.get("/requests.json", jurisdiction_id="tma-takht-bhai")) == [takht_bhai]
    assert ids(o311.get("/requests.json", service_code="tma-takht-bhai:garbage-complaint")) == [
        takht_bhai
    ]
    assert ids(
        o311.get("/requests.json", service_code="garbage-complaint", jurisdiction_id="tma-mardan")
    ) == [mardan[1], mardan[0]]
    assert ids(o311.get("/requests.json", service_code="street-light")) == []
    assert ids(
        o311.get("/requests.json", service_request_id=f"{mardan[0]},{takht_bhai}", status="open")
    ) == [takht_bhai, mardan[0]]  # ids override the other filters
    assert ids(o311.get("/requests.json", page_size="1")) == [takht_bhai]
    assert o311.get("/requests/MDN-26-000003.json").status_code == 404  # the water connection
    assert o311.get(f"/requests/{takht_bhai}.json", jurisdiction_id="tma-mardan").status_code == 404


def test_dates_default_to_the_last_90_days(o311: Open311, people: People) -> None:
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=PKT), tick=False):
        march = garbage(people).tracking_no
    with time_machine.travel(datetime(2026, 8, 3, 10, 0, tzinfo=PKT), tick=False):
        august = garbage(people).tracking_no
    with time_machine.travel(datetime(2026, 8, 20, 10, 0, tzinfo=PKT), tick=False):
        later = garbage(people).tracking_no

        recent = ids(o311.get("/requests.json"))
        since = ids(o311.get("/requests.json", start_date="2026-08-04T00:00:00+05:00"))
        until = ids(o311.get("/requests.json", end_date="2026-03-03T00:00:00Z"))
        between = ids(
            o311.get("/requests.json", start_date="2026-08-01", end_date="2026-08-10T00:00:00Z")
        )
        feed = o311.get("/requests.json", start_date="2026-08-03T05:00:00Z")
        unencoded_plus = o311.client.get(
            "/open311/v2/requests.json?start_date=2026-08-03T10:00:01+05:00"
        )

    assert recent == [later, august]
    assert since == [later]
    assert until == [march]
    assert between == [august]
    assert ids(feed) == [later, august]
    assert ids(unencoded_plus) == [later]
    row = json.loads(feed.content)[1]
    assert row["requested_datetime"] == "2026-08-03T10:00:00+05:00"
    assert row["expected_datetime"] == "2026-08-04T10:00:00+05:00"  # garbage: 24 hours
