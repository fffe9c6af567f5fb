"""Officials in the browser: working the queue, and the head finding where work is late."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from ocsc.cases.actions import take_action
from ocsc.cases.models import Application, Event
from tests.e2e.conftest import phone_context
from tests.personas import People, make_people, water_connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cast(server: str, mini_catalog: None) -> People:
    return make_people()


def sign_in_with_password(page: Page, phone: str) -> None:
    page.goto("/signin/?with=password")
    page.fill("#phone", phone)
    page.fill("#password", "pw-official-2026")
    page.locator("form button.btn-primary").click()
    expect(page.locator("nav")).to_contain_text("Sign out")


def test_an_official_works_the_queue(browser: Browser, server: str, cast: People) -> None:
    first, second = water_connection(cast), water_connection(cast)
    context = phone_context(browser, server)
    page = context.new_page()
    sign_in_with_password(page, "03003333333")  # Kamran, the clerk

    page.goto("/staff/queue/")
    expect(page.locator("#queue-rows")).to_contain_text(first.tracking_no)
    page.locator(f"a:has-text('{first.tracking_no}')").click()
    page.fill("#c-forward", "Documents complete")
    page.locator("form:has(input[value='forward']) button").click()
    expect(page.locator("#timeline")).to_contain_text("Documents complete")

    page.goto(f"/applications/{second.tracking_no}/")
    page.fill("#comment-text", "Ask about the old connection")
    page.check("#internal")
    page.locator("section form button.btn-outline-primary").click()
    page.fill("#c-return", "The CNIC copy is not readable")
    page.locator("form:has(input[value='return']) button").click()
    expect(page.locator("#timeline")).to_contain_text("The CNIC copy is not readable")

    assert Application.objects.get(pk=first.pk).state == "site_inspection"
    assert Application.objects.get(pk=second.pk).category == "waiting_citizen"
    note = Event.objects.get(application=second, kind="comment.added")
    assert (note.visibility, note.actor) == ("internal", cast.kamran)
    page.goto("/staff/queue/")
    expect(page.locator("#queue-rows")).to_contain_text("Nothing waits on you.")
    context.close()


def test_the_head_finds_the_most_delayed_step_and_the_applications_behind_it(
    browser: Browser, server: str, cast: People
) -> None:
    late = water_connection(cast)
    take_action(late, actor=cast.kamran, action="forward")  # to the sub-engineer: 3 days
    context = phone_context(browser, server)
    page = context.new_page()
    sign_in_with_password(page, "03007777777")  # Tariq, the TMO

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        on_time = water_connection(cast)  # just arrived at the clerk
        page.goto("/staff/dashboard/tma-mardan/")
        worst = page.locator("table.bottlenecks tbody tr").first
        expect(worst).to_contain_text("site_inspection")
        worst.locator("a[href*='what=overdue']").click()
        expect(page.locator("table")).to_contain_text(late.tracking_no)
        expect(page.locator("table")).not_to_contain_text(on_time.tracking_no)
    context.close()
