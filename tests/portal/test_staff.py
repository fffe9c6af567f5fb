"""The staff pages: who may open them, what they show, and their query budgets."""

import io
import zipfile

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries

from ocsc.cases.actions import add_comment
from tests.personas import People, water_connection

pytestmark = pytest.mark.django_db


def signed_in(user: object | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)  # type: ignore[arg-type]
    return client


PEOPLE = ["anonymous", "ayesha", "kamran", "sana", "tariq", "faisal", "zeb", "maryam"]


def who(people: People, name: str) -> object | None:
    return None if name == "anonymous" else getattr(people, name)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # anonymous, ayesha, kamran (clerk), sana, tariq (head), faisal, zeb (other org), maryam
        ("/staff/queue/", [302, 404, 200, 200, 200, 200, 200, 404]),
        # figures: heads and supervisors (roles others report to) of the organization, monitors
        ("/staff/dashboard/", [302, 404, 404, 404, 200, 404, 404, 200]),
        ("/staff/dashboard/tma-mardan/", [302, 404, 404, 404, 200, 404, 404, 200]),
        ("/staff/dashboard/tma-takht-bhai/", [302, 404, 404, 404, 404, 404, 404, 200]),
        ("/staff/applications/?what=open", [302, 404, 404, 404, 200, 404, 404, 200]),
        ("/staff/board/", [302, 200, 200, 200, 200, 200, 200, 200]),
        ("/organizations/tma-mardan/figures/", [200] * 8),
    ],
)
def test_who_may_open_the_staff_pages(people: People, path: str, expected: list[int]) -> None:
    water_connection(people)
    got = [signed_in(who(people, name)).get(path).status_code for name in PEOPLE]
    assert dict(zip(PEOPLE, got, strict=True)) == dict(zip(PEOPLE, expected, strict=True))


def test_the_queue_shows_my_work_with_filters(people: People) -> None:
    application = water_connection(people)
    clerk = signed_in(people.kamran)

    page = clerk.get("/staff/queue/").content.decode()
    assert application.tracking_no in page
    assert application.tracking_no not in clerk.get("/staff/queue/?due=overdue").content.decode()
    assert (
        application.tracking_no not in signed_in(people.zeb).get("/staff/queue/").content.decode()
    )
    assert (
        application.tracking_no
        not in signed_in(people.faisal).get("/staff/queue/").content.decode()
    )
    partial = clerk.get("/staff/queue/?step=scrutiny", headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<div id="queue-rows"')


def test_the_head_sees_figures_and_drills_down_to_the_applications(people: People) -> None:
    application = water_connection(people)
    head = signed_in(people.tariq)

    page = head.get("/staff/dashboard/tma-mardan/").content.decode()
    assert "New water supply connection" in page and "/staff/applications/?what=open" in page
    listing = head.get("/staff/applications/", {"what": "open", "state": "scrutiny"})
    assert application.tracking_no in listing.content.decode()
    csv = head.get("/staff/applications/", {"what": "open", "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert application.tracking_no in csv.content.decode("utf-8-sig")
    xlsx = head.get("/staff/applications/", {"what": "open", "format": "xlsx"})
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as book:
        assert application.tracking_no in book.read("xl/sharedStrings.xml").decode()


def test_the_monitor_sees_every_organization_side_by_side_and_cannot_act(people: People) -> None:
    application = water_connection(people)
    monitor = signed_in(people.maryam)

    page = monitor.get("/staff/dashboard/").content.decode()
    assert "TMA Mardan" in page and "TMA Takht Bhai" in page
    response = monitor.post(f"/applications/{application.tracking_no}/act/", {"action": "forward"})
    assert response.status_code == 403


def test_the_public_page_shows_no_personal_data(people: People, client: Client) -> None:
    application = water_connection(people)
    add_comment(application, actor=people.ayesha, text="My house is number 12")

    page = client.get("/organizations/tma-mardan/figures/").content.decode()

    assert "New water supply connection" in page
    for private in (application.tracking_no, "Ayesha", "03001111111", "House 12", "number 12"):
        assert private not in page


def test_watching_and_the_board(people: People) -> None:
    application = water_connection(people)
    head = signed_in(people.tariq)

    assert head.post(f"/applications/{application.tracking_no}/watch/").status_code == 302
    board = head.get("/staff/board/").content.decode()
    assert application.tracking_no in board and "scrutiny" in board
    assert (
        signed_in(people.zeb).post(f"/applications/{application.tracking_no}/watch/").status_code
        == 404
    )
    assert (
        signed_in(people.ayesha).post(f"/applications/{application.tracking_no}/watch/").status_code
        == 404
    )


def test_a_supervisor_assigns_from_the_page(people: People) -> None:
    application = water_connection(people)
    page = signed_in(people.tariq).get(f"/applications/{application.tracking_no}/").content.decode()
    assert "Kamran Ali" in page and 'name="user"' in page
    assert (
        'name="user"'
        not in signed_in(people.kamran)
        .get(f"/applications/{application.tracking_no}/")
        .content.decode()
    )

    response = signed_in(people.tariq).post(
        f"/applications/{application.tracking_no}/assign/", {"user": people.kamran.pk}
    )

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.current_step is not None
    assert application.current_step.assignee == people.kamran
    refused = signed_in(people.kamran).post(
        f"/applications/{application.tracking_no}/assign/", {"user": people.kamran.pk}
    )
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "path", ["/staff/queue/", "/staff/applications/?what=open", "/staff/dashboard/tma-mardan/"]
)
def test_staff_lists_run_the_same_queries_for_few_and_many(
    people: People, django_assert_num_queries: DjangoAssertNumQueries, path: str
) -> None:
    head = signed_in(people.tariq)
    for _ in range(2):
        water_connection(people)
    head.get(path)
    with CaptureQueriesContext(connection) as few:
        head.get(path)
    for _ in range(10):
        water_connection(people)
    with django_assert_num_queries(len(few.captured_queries)):
        head.get(path)
