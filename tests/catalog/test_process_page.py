"""The process page: who may see and change it, checking, the dry run, and publishing a new
version while applications in flight keep theirs."""

import json
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.utils.html import escape
from pytest_django import DjangoAssertNumQueries

from ocsc.accounts.actions import PostingInput, post_official
from ocsc.accounts.models import User
from ocsc.cases.actions import take_action
from ocsc.catalog.actions import (
    ProcessChanged,
    ProcessInvalid,
    check_process,
    dry_run,
    publish_process,
)
from ocsc.catalog.models import ProcessVersion, Service
from ocsc.catalog.views import spec_yaml
from tests.personas import People, water_connection

pytestmark = pytest.mark.django_db

PAGE = "/manage/tma-mardan/water-connection/process/"
KARACHI = ZoneInfo("Asia/Karachi")

# Four problems the engine finds only once the text parses, each on its own line.
BAD = """\
sla: 20d
start: scrutiny
steps:
  scrutiny:
    owner: clerk
    sla: 2d
    actions:
      forward: {to: nowhere}
      reject: {to: rejected, comment: required}
  inspection:
    owner: plumber
    sla: 3d
    requires: [title_deed]
    actions:
      recommend: {to: rejected}
  rejected: {outcome: rejected}
"""
BAD_PROBLEMS = [
    (8, "process.steps.scrutiny.actions.forward.to", "unknown step 'nowhere'"),
    (10, "process.steps.inspection", "unreachable from the start step 'scrutiny'"),
    (11, "process.steps.inspection.owner", "unknown role 'plumber'"),
    (13, "process.steps.inspection.requires[0]", "unknown requirement 'title_deed'"),
]


def water() -> Service:
    return Service.objects.select_related("organization__kind", "organization__calendar").get(
        organization__code="tma-mardan", code="water-connection"
    )


def current_text() -> str:
    service = water()
    assert service.current_process is not None
    return spec_yaml(service.current_process.spec)


def renamed() -> str:
    """Version 2: scrutiny becomes document_check, whose `forward` becomes `verify`."""
    text = current_text().replace("scrutiny", "document_check").replace("forward:", "verify:")
    assert "scrutiny" not in text and "verify: {to: site_inspection}" in text
    return text


def signed_in(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def superuser() -> User:
    return User.objects.create_superuser("03000000001", "pw-admin-2026", name="Admin")


def head_of_takht_bhai() -> User:
    user = User.objects.create_user("03000000002", "pw-official-2026", name="Gul Khan")
    post_official(user, PostingInput(organization="tma-takht-bhai", role="tmo"))
    return user


def person(people: People, who: str) -> User | None:
    if who == "anonymous":
        return None
    if who == "superuser":
        return superuser()
    if who == "head of another organization":
        return head_of_takht_bhai()
    if who == "former head":
        user = User.objects.create_user("03000000004", "pw-official-2026", name="Old Head")
        ended = PostingInput(
            "tma-mardan", "tmo", starts_on=date(2020, 1, 1), ends_on=date(2021, 1, 1)
        )
        post_official(user, ended)
        return user
    user: User = getattr(people, who)
    return user


# Who may do what ----------------------------------------------------------------------

ENDPOINTS = ["page", "check", "dry run", "publish"]
MATRIX = {
    "anonymous": [302, 302, 302, 302],  # to sign in
    "ayesha": [404, 404, 404, 404],  # a citizen
    "kamran": [404, 404, 404, 404],  # a clerk of the organization
    "zeb": [404, 404, 404, 404],  # a clerk of another organization
    "head of another organization": [404, 404, 404, 404],
    "former head": [404, 404, 404, 404],  # the posting has ended
    "maryam": [200, 403, 403, 403],  # the monitor reads
    "tariq": [200, 200, 200, 302],  # the head
    "superuser": [200, 200, 200, 302],
}


def status(client: Client, endpoint: str, text: str) -> int:
    body = {"spec": text, "actions": "verify", "start": "2026-02-04T16:00", "based_on": "1"}
    if endpoint == "page":
        return client.get(PAGE).status_code
    path = {"check": "check/", "dry run": "dry-run/", "publish": "publish/"}[endpoint]
    return client.post(PAGE + path, body).status_code


@pytest.mark.parametrize("who", list(MATRIX))
def test_the_head_and_superusers_edit_monitors_read_everyone_else_sees_nothing(
    people: People, who: str
) -> None:
    client = signed_in(person(people, who))
    text = renamed()

    statuses = {endpoint: status(client, endpoint, text) for endpoint in ENDPOINTS}

    assert statuses == dict(zip(ENDPOINTS, MATRIX[who], strict=True))
    published = who in ("tariq", "superuser")
    assert ProcessVersion.objects.filter(service=water()).count() == (2 if published else 1)


def test_anonymous_visitors_are_sent_to_sign_in(mini_catalog: None) -> None:
    client = Client()
    for url in ("/manage/", PAGE, PAGE + "check/", PAGE + "dry-run/", PAGE + "publish/"):
        response = (
            client.post(url) if url.endswith(("check/", "run/", "publish/")) else client.get(url)
        )
        assert response.status_code == 302, url
        assert response["Location"].startswith("/signin/?next=/manage/"), url
    assert ProcessVersion.objects.count() == 3


def test_the_manage_page_lists_what_each_may_see(people: People) -> None:
    assert signed_in(people.ayesha).get("/manage/").status_code == 404
    assert signed_in(people.kamran).get("/manage/").status_code == 404
    assert signed_in(people.zeb).get("/manage/").status_code == 404

    head = signed_in(people.tariq).get("/manage/").content.decode()
    assert "TMA Mardan" in head and "TMA Takht Bhai" not in head
    assert f'href="{PAGE}"' in head and "Garbage not collected" in head
    other = signed_in(head_of_takht_bhai()).get("/manage/").content.decode()
    assert "TMA Takht Bhai" in other and "TMA Mardan" not in other
    for reader in (people.maryam, superuser()):
        page = signed_in(reader).get("/manage/").content.decode()
        assert "TMA Mardan" in page and "TMA Takht Bhai" in page


def test_the_monitor_reads_the_process_without_the_editor(people: People) -> None:
    page = signed_in(people.maryam).get(PAGE).content.decode()

    assert "Check that the documents are complete" in page  # the flow
    assert "Dealing Assistant" in page  # owners by name
    assert "flowchart TD" in page  # the Mermaid source
    assert "forward: {to: site_inspection}" in page  # the spec
    assert 'id="versions"' in page
    assert 'name="spec"' not in page and "Publish as version" not in page


def test_the_page_shows_the_process_as_steps_spec_and_diagram(people: People) -> None:
    page = signed_in(people.tariq).get(PAGE).content.decode()

    assert 'id="step-scrutiny"' in page and 'href="#step-site_inspection"' in page
    assert "20 working days" in page and "2 working days" in page
    assert "Inspection report" in page  # a step's `requires`, by the requirement's name
    assert "the fee is paid here" in page
    assert "lapse" in page and "by the system" in page
    # The editor starts from the current version, and suggests the main path for a dry run.
    assert "verify" not in page and "    sla: 2d\n" in page
    assert 'value="forward, recommend, approve, pay, confirm, complete"' in page
    assert "Publish as version 2" in page


def test_the_page_speaks_urdu_and_keeps_the_spec_left_to_right(people: People) -> None:
    client = signed_in(people.tariq)

    page = client.get(PAGE, headers={"accept-language": "ur"}).content.decode()
    result = client.post(PAGE + "check/", {"spec": BAD}, headers={"accept-language": "ur"})

    assert 'lang="ur" dir="rtl"' in page
    assert "ترمیم کریں اور جاری کریں" in page and "ورژن 2 کے طور پر جاری کریں" in page
    assert "Edit and publish" not in page
    assert '<textarea id="spec" name="spec"' in page and 'dir="ltr" wrap="off"' in page
    assert "4 مسائل درست کرنے ہیں" in result.content.decode()
    assert '<a href="#spec" data-line="8">سطر 8</a>' in result.content.decode()


# Checking -----------------------------------------------------------------------------


def test_check_reports_every_problem_with_its_line_and_path_and_writes_nothing(
    people: People,
) -> None:
    client = signed_in(people.tariq)

    response = client.post(PAGE + "check/", {"spec": BAD})

    assert response.status_code == 422
    page = response.content.decode()
    assert "4 problems to fix" in page
    for line, path, message in BAD_PROBLEMS:
        problem = f'<code dir="ltr" class="text-reset">{path}</code>: {escape(message)}</li>'
        assert f'<a href="#spec" data-line="{line}">line {line}</a>: {problem}' in page
    # The whole page comes back with the text as it was sent: nothing is lost.
    assert '<textarea id="spec"' in page
    assert "{to: nowhere}" in page and "owner: plumber" in page
    assert ProcessVersion.objects.count() == 3
    assert water().current_process.number == 1  # type: ignore[union-attr]


def test_check_with_htmx_returns_only_the_result(people: People) -> None:
    client = signed_in(people.tariq)

    bad = client.post(PAGE + "check/", {"spec": BAD}, headers={"HX-Request": "true"})
    good = client.post(PAGE + "check/", {"spec": renamed()}, headers={"HX-Request": "true"})

    assert bad.status_code == 422
    assert bad.content.decode().lstrip().startswith('<div class="alert alert-danger"')
    assert "<textarea" not in bad.content.decode() and "<html" not in bad.content.decode()
    assert "line 8" in bad.content.decode()
    assert good.status_code == 200
    assert "No problems: ready to publish as version 2." in good.content.decode()


def test_the_checks_know_the_file_the_roles_and_the_requirements(people: People) -> None:
    service = water()

    draft = check_process(service, BAD)

    assert draft.process is None
    assert [(p.line, p.problem.path, p.problem.message) for p in draft.problems] == BAD_PROBLEMS
    broken = check_process(
        service, "sla: 20d\nstart: a\nsteps:\n  a: {owner: clerk, sla: 3 days}\n"
    )
    assert [(p.line, p.problem.path) for p in broken.errors] == [(4, "process.steps.a.sla")]
    assert "'3 days' is not a timeline" in broken.errors[0].problem.message
    not_yaml = check_process(service, "sla: 20d\nsteps:\n  a: {owner: clerk\n")
    assert not_yaml.errors[0].line == 4 and "not valid YAML" in not_yaml.errors[0].problem.message
    twice = check_process(service, current_text() + "start: scrutiny\n")
    assert [(p.line, p.problem.path, p.problem.message) for p in twice.errors] == [
        (50, "process.start", "duplicate key")
    ]
    assert twice.process is None  # the rest is sound, but it is not what the author sees
    aliases = check_process(service, "a: &x [1, 2]\nb: *x\n")
    assert aliases.errors[0].line == 2 and "aliases" in aliases.errors[0].problem.message
    endless = check_process(service, current_text().replace("sla: 20d", "sla: 99999d", 1))
    assert [p.problem.path for p in endless.errors] == ["process.sla"]
    assert check_process(service, "").errors[0].problem.path == "process"


def test_json_and_a_pasted_process_key_are_read_too(people: People) -> None:
    service = water()
    spec = service.current_process.spec  # type: ignore[union-attr]

    as_json = check_process(service, json.dumps(spec, indent=2, ensure_ascii=False))
    text = current_text().replace("owner: accountant", "owner: cashier")
    pasted = check_process(
        service, "process:\n" + "".join(f"  {line}\n" for line in text.splitlines())
    )

    assert as_json.process is not None and as_json.problems == []
    assert [(p.line, p.problem.path, p.problem.message) for p in pasted.problems] == [
        (38, "process.steps.payment_check.owner", "unknown role 'cashier'")
    ]


# The dry run --------------------------------------------------------------------------


def rows(page: str) -> list[tuple[str, str]]:
    """(state, due) of each row of the dry-run table."""
    found = re.findall(r'<tr data-state="(\w+)">.*?<td class="due[^"]*">([^<]*)</td>', page, re.S)
    return [(state, due.strip()) for state, due in found]


def test_a_dry_run_walks_the_main_path_on_the_calendar(people: People) -> None:
    """From Wednesday 4 February 2026, 16:00: Thursday 5 February is Kashmir Solidarity Day
    (and the calendar's own holiday), weekends do not count, the payment has no timeline."""
    head = User.objects.create_user("03000000003", "pw-official-2026", name="Saeed Khan")
    post_official(head, PostingInput("tma-mardan", "tmo", starts_on=date(2020, 1, 1)))
    client = signed_in(head)
    body = {
        "spec": current_text(),
        "actions": "forward, recommend, approve, pay, confirm, complete",
        "start": "",
    }
    with time_machine.travel(datetime(2026, 2, 4, 16, 0, tzinfo=KARACHI), tick=False):
        response = client.post(PAGE + "dry-run/", body)

    assert response.status_code == 200
    page = response.content.decode()
    assert rows(page) == [
        ("scrutiny", "Mon 9 Feb 2026, 16:00"),
        ("site_inspection", "Thu 12 Feb 2026, 16:00"),
        ("approval", "Mon 16 Feb 2026, 16:00"),
        ("payment", "—"),
        ("payment_check", "Tue 17 Feb 2026, 16:00"),
        ("installation", "Tue 24 Feb 2026, 16:00"),
    ]
    assert "Thu 5 Feb (Kashmir Solidarity Day), Sat 7 Feb, Sun 8 Feb" in page
    assert "The process ends: <strong>approved</strong>" in page
    assert '<strong id="dry-run-due">Thu 5 Mar 2026, 16:00</strong>' in page
    assert ProcessVersion.objects.count() == 3


def test_the_applicants_time_moves_the_whole_due_date(people: People) -> None:
    start = datetime(2026, 2, 4, 16, 0, tzinfo=KARACHI)

    run = dry_run(
        water(), text=current_text(), start=start, actions=["return", "resubmit", "forward"]
    )

    local = [(v.state, v.due_at.astimezone(KARACHI) if v.due_at else None) for v in run.visits]
    assert local == [
        ("scrutiny", datetime(2026, 2, 9, 16, 0, tzinfo=KARACHI)),
        ("correction", datetime(2026, 2, 23, 16, 0, tzinfo=KARACHI)),
        ("scrutiny", datetime(2026, 2, 25, 16, 0, tzinfo=KARACHI)),
        ("site_inspection", datetime(2026, 3, 2, 16, 0, tzinfo=KARACHI)),
    ]
    # Ten working days with the applicant push 5 March to 19 March (20 March is Eid).
    assert run.application_due == datetime(2026, 3, 19, 16, 0, tzinfo=KARACHI)
    assert run.outcome is None and run.stopped == ""


def test_a_dry_run_stops_at_an_action_the_step_does_not_have(people: People) -> None:
    client = signed_in(people.tariq)
    body = {"spec": current_text(), "actions": "forward, approve", "start": "2026-02-04T16:00"}

    response = client.post(PAGE + "dry-run/", body)

    assert response.status_code == 422
    page = response.content.decode()
    assert [state for state, _ in rows(page)] == ["scrutiny", "site_inspection"]
    assert "&#x27;approve&#x27; is not an action of the step &#x27;site_inspection&#x27;" in page
    bad = client.post(PAGE + "dry-run/", {**body, "spec": BAD})
    assert bad.status_code == 422 and "line 11" in bad.content.decode()
    late = client.post(PAGE + "dry-run/", {**body, "start": "next week"})
    assert (
        late.status_code == 422 and "Give the start as a date and a time." in late.content.decode()
    )


# Publishing ---------------------------------------------------------------------------


def test_publishing_makes_a_new_version_and_the_application_in_flight_keeps_the_old(
    people: People,
) -> None:
    in_flight = water_connection(people)
    v1 = water().current_process
    assert v1 is not None and in_flight.process_id == v1.pk
    v1_text = v1.spec_json
    client = signed_in(people.tariq)

    response = client.post(PAGE + "publish/", {"spec": renamed(), "based_on": "1"})

    assert (response.status_code, response["Location"]) == (302, PAGE + "?published=2")
    service = water()
    v2 = service.current_process
    assert v2 is not None and v2.number == 2
    assert "document_check" in v2.spec["steps"] and "scrutiny" not in v2.spec["steps"]
    v1.refresh_from_db()
    assert (v1.number, v1.spec_json) == (1, v1_text)
    in_flight.refresh_from_db()
    assert (in_flight.process_id, in_flight.state) == (v1.pk, "scrutiny")
    # The step and action v2 renamed still work for it, by v1's rules.
    take_action(in_flight, actor=people.kamran, action="forward")
    in_flight.refresh_from_db()
    assert (in_flight.process_id, in_flight.state) == (v1.pk, "site_inspection")
    # A new application follows v2.
    newcomer = water_connection(people)
    assert (newcomer.process_id, newcomer.state) == (v2.pk, "document_check")
    take_action(newcomer, actor=people.kamran, action="verify")
    newcomer.refresh_from_db()
    assert newcomer.state == "site_inspection"

    page = client.get(response["Location"]).content.decode()
    assert "Version 2 is published." in page
    assert '<tr data-version="2" class="table-success">' in page
    assert '<td class="in-flight">1</td>' in page.split('data-version="1"')[1]
    assert '<td class="in-flight">1</td>' in page.split('data-version="2"')[1]
    old = client.get(PAGE + "?version=1").content.decode()
    assert "Version 1 (not the current one)" in old and 'id="step-scrutiny"' in old
    for wrong in ("7", "x", "99999999999999999999"):
        assert client.get(PAGE, {"version": wrong}).status_code == 404
    assert "is published" not in client.get(PAGE + "?published=1").content.decode()


def test_a_refused_publication_keeps_the_text_and_writes_nothing(people: People) -> None:
    client = signed_in(people.tariq)

    refused = client.post(PAGE + "publish/", {"spec": BAD, "based_on": "1"})
    same = client.post(PAGE + "publish/", {"spec": current_text(), "based_on": "1"})

    assert refused.status_code == 422
    assert "Not published." in refused.content.decode()
    assert "owner: plumber" in refused.content.decode()
    assert same.status_code == 422
    assert "nothing changed: this is version 1 as published" in same.content.decode()
    assert ProcessVersion.objects.filter(service=water()).count() == 1


def test_a_version_published_meanwhile_is_not_overwritten(people: People) -> None:
    service = water()
    publish_process(service, actor=people.tariq, text=renamed(), based_on=1)
    client = signed_in(people.tariq)
    mine = current_text().replace("sla: 20d", "sla: 25d", 1)

    response = client.post(PAGE + "publish/", {"spec": mine, "based_on": "1"})

    assert response.status_code == 409
    page = response.content.decode()
    assert "Version 2 was published while you were editing." in page
    assert "sla: 25d" in page  # the text is kept
    assert 'name="based_on" value="2"' in page  # and publishing it again is deliberate
    assert water().current_process.number == 2  # type: ignore[union-attr]
    with pytest.raises(ProcessChanged):
        publish_process(water(), actor=people.tariq, text=mine, based_on=1)


def test_only_administrators_publish(people: People) -> None:
    for official in (people.kamran, people.maryam, people.zeb):
        with pytest.raises(PermissionDenied):
            publish_process(water(), actor=official, text=renamed())
    with pytest.raises(ProcessInvalid) as refused:
        publish_process(water(), actor=people.tariq, text=BAD)
    assert [(p.line, p.problem.path) for p in refused.value.problems] == [
        (line, path) for line, path, _ in BAD_PROBLEMS
    ]
    assert ProcessVersion.objects.filter(service=water()).count() == 1


def test_the_versions_list_takes_the_same_queries_however_many_versions(
    people: People, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    water_connection(people)
    client = signed_in(people.tariq)
    client.get(PAGE)  # sessions and caches warm

    with django_assert_num_queries(6):
        few = client.get(PAGE)
    v1 = current_text()
    for number in range(2, 7):
        text = v1.replace("sla: 20d", f"sla: {20 + number}d", 1)
        publish_process(water(), actor=people.tariq, text=text)
        water_connection(people)
    with django_assert_num_queries(6):
        many = client.get(PAGE)

    assert few.content.decode().count("<tr data-version=") == 1
    assert many.content.decode().count("<tr data-version=") == 6
    assert many.content.decode().count('<td class="in-flight">1</td>') == 6


# Two publishers at once ---------------------------------------------------------------


def in_thread[T](work: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        try:
            return work()
        finally:
            connection.close()

    return run


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql
def test_two_publishers_at_once_get_consecutive_versions(people: People) -> None:
    start = threading.Barrier(2)

    def publish(days: int) -> int:
        service = water()
        text = current_text().replace("sla: 20d", f"sla: {days}d", 1)
        start.wait()
        return publish_process(service, actor=people.tariq, text=text).number

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(in_thread(lambda d=d: publish(d))) for d in (21, 22)]
        numbers = sorted(future.result() for future in futures)

    assert numbers == [2, 3]
    assert water().current_process.number == 3  # type: ignore[union-attr]
