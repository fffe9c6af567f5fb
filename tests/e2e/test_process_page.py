"""The head changes a process in the browser: check, publish, and the application already in
flight carries on by the version it started on."""

import pytest
from playwright.sync_api import Browser, expect

from ocsc.catalog.models import Service
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_citizen_journey import AXE
from tests.personas import make_people, water_connection

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_head_publishes_a_new_version_and_the_application_in_flight_keeps_its_own(
    browser: Browser, server: str, mini_catalog: None
) -> None:
    people = make_people()
    in_flight = water_connection(people)
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()

    page.goto("/signin/?with=password&next=/manage/")
    page.fill("#phone", "03007777777")  # Tariq, the TMO
    page.fill("#password", "pw-official-2026")
    page.locator("form button.btn-primary").click()
    page.get_by_role("link", name="New water supply connection").click()
    expect(page.locator("#flow-title")).to_contain_text("version 1")

    # A typo first: the check names the line and the path, and the text stays as typed.
    text = page.input_value("#spec")
    typo = text.replace("forward: {to: site_inspection}", "forward: {to: site_inspektion}")
    page.fill("#spec", typo)
    page.locator("#check").click()
    expect(page.locator("#problems")).to_contain_text(
        "line 9: process.steps.scrutiny.actions.forward.to: unknown step 'site_inspektion'"
    )
    assert page.input_value("#spec") == typo
    assert page.url == f"{server}/manage/tma-mardan/water-connection/process/"  # htmx: in place
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [
        (v["id"], [n["html"][:80] for n in v["nodes"]])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []

    renamed = text.replace("scrutiny", "document_check").replace("forward:", "verify:")
    page.fill("#spec", renamed)
    page.locator("#check").click()
    expect(page.locator("#editor-result")).to_contain_text("No problems")
    page.fill("#actions", "verify, recommend")
    page.fill("#start", "2026-02-04T16:00")
    page.locator("#dry-run-button").click()
    expect(page.locator("#dry-run tbody tr")).to_have_count(3)
    expect(page.locator("#dry-run tbody tr").first).to_contain_text("Mon 9 Feb 2026, 16:00")
    page.locator("#publish").click()

    expect(page.locator(".alert-success")).to_contain_text("Version 2 is published.")
    expect(page.locator("#flow-title")).to_contain_text("version 2")
    expect(page.locator("#step-document_check")).to_be_visible()
    expect(page.locator("#versions tr[data-version='1'] .in-flight")).to_have_text("1")
    expect(page.locator("#versions tr[data-version='2'] .in-flight")).to_have_text("0")
    page.screenshot(path=str(ARTIFACTS / "process-page.png"), full_page=True)

    # The application filed before keeps its step and the actions of version 1.
    page.goto(f"/applications/{in_flight.tracking_no}/")
    expect(page.get_by_text("scrutiny", exact=False).first).to_be_visible()
    page.get_by_role("button", name="Forward").click()
    in_flight.refresh_from_db()
    assert in_flight.state == "site_inspection"
    service = Service.objects.get(organization__code="tma-mardan", code="water-connection")
    assert in_flight.process.number == 1 and service.current_process.number == 2  # type: ignore[union-attr]
    context.close()
