"""GET /applications: filters and pages."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from ocsc.cases.actions import take_action
from ocsc.cases.models import Application
from tests.api.conftest import Api
from tests.personas import People, upload, water_connection


def numbers(response: object) -> list[str]:
    assert response.status_code == 200, response.json()  # type: ignore[attr-defined]
    return [item["tracking_no"] for item in response.json()["items"]]  # type: ignore[attr-defined]


def test_filters_narrow_what_the_caller_sees(people: People) -> None:
    first = water_connection(people)
    second = water_connection(people)
    take_action(second, actor=people.kamran, action="reject", comment="Outside the scheme.")
    kamrans = {"cnic_copy": upload(people.kamran), "affidavit": upload(people.kamran)}
    own = water_connection(people, citizen=people.kamran, documents=kamrans)
    tariq = Api(people.tariq)

    newest_first = [own.tracking_no, second.tracking_no, first.tracking_no]
    assert numbers(tariq.get("/applications")) == newest_first
    assert numbers(tariq.get("/applications", state="rejected")) == [second.tracking_no]
    assert numbers(tariq.get("/applications", category="open")) == [
        own.tracking_no,
        first.tracking_no,
    ]
    assert numbers(tariq.get("/applications", service="garbage-complaint")) == []
    assert numbers(tariq.get("/applications", organization="tma-takht-bhai")) == []
    assert numbers(Api(people.kamran).get("/applications", mine=True)) == [own.tracking_no]
    today = timezone.localdate().isoformat()
    assert len(numbers(tariq.get("/applications", submitted_from=today, submitted_to=today))) == 3
    assert numbers(tariq.get("/applications", submitted_to="2000-01-01")) == []

    page = tariq.get("/applications", limit=2, offset=1).json()
    assert page["count"] == 3
    assert [i["tracking_no"] for i in page["items"]] == newest_first[1:]


def test_overdue_is_computed_from_the_stored_due_times(people: People) -> None:
    application = water_connection(people)
    kamran = Api(people.kamran)
    assert numbers(kamran.get("/applications", overdue=True)) == []
    with time_machine.travel(timezone.now() + timedelta(days=10)):
        late = kamran.get("/applications", overdue=True)
        assert numbers(late) == [application.tracking_no]
        assert late.json()["items"][0]["step"]["overdue"] is True
        shown = kamran.get(f"/applications/{application.tracking_no}").json()
        assert shown["step"]["overdue"] is True and shown["overdue"] is False  # 20 days overall
        assert kamran.get("/queue").json()["items"][0]["overdue"] is True
    assert Application.objects.get(pk=application.pk).category == "open"


def test_a_citizen_s_own_pages_are_the_same_items_as_an_official_sees(people: People) -> None:
    """A citizen's list (no filters) runs on compiled SQL; an official's on the ORM."""
    mine = [water_connection(people) for _ in range(3)]
    take_action(mine[1], actor=people.kamran, action="forward")
    bilals = {"cnic_copy": upload(people.bilal), "affidavit": upload(people.bilal)}
    water_connection(people, citizen=people.bilal, documents=bilals)
    ayesha, tariq = Api(people.ayesha), Api(people.tariq)

    newest_first = [a.tracking_no for a in reversed(mine)]
    first, rest = (ayesha.get("/applications", limit=2, offset=o).json() for o in (0, 2))
    assert (first["count"], rest["count"]) == (3, 3)
    items = first["items"] + rest["items"]
    assert [i["tracking_no"] for i in items] == newest_first
    assert ayesha.get("/applications", mine=True).json()["items"] == items
    official = {i["tracking_no"]: i for i in tariq.get("/applications").json()["items"]}
    assert items == [official[number] for number in newest_first]
    assert items[1]["step"]["state"] == "site_inspection"
    assert numbers(Api(people.bilal).get("/applications")) != newest_first
    assert ayesha.get("/applications", offset=3).json() == {"items": [], "count": 3}
