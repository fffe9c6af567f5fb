"""A citizen's journeys in the browser, on a phone-sized screen, in English and in Urdu."""

import json
import re
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import Browser, Page, expect

from ocsc.accounts.actions import issue_token
from ocsc.cases.models import Application
from ocsc.notify.models import SmsMessage
from tests.e2e.conftest import ARTIFACTS, phone_context
from tests.personas import PDF, PNG, People, make_people

pytestmark = pytest.mark.django_db(transaction=True)
AXE = Path(__file__).parent / "vendor" / "axe" / "axe.min.js"


@pytest.fixture
def cast(server: str, mini_catalog: None) -> People:
    return make_people()


def sign_in(page: Page, phone: str) -> None:
    page.goto("/signin/")
    page.fill("#phone", phone)
    page.locator("form button.btn-primary").click()
    message = SmsMessage.objects.order_by("-pk").first()
    assert message is not None
    page.fill("#code", re.search(r"\d{6}", message.text).group(0))  # type: ignore[union-attr]
    page.locator("form button.btn-primary").click()
    expect(page.locator("nav")).to_contain_text(_("Sign out", page))


def _(text: str, page: Page) -> str:
    language = page.locator("html").get_attribute("lang") or "en"
    with translation.override(language):
        return translation.gettext(text)


def fill_application(page: Page, tmp_path: Path) -> None:
    page.goto("/services/tma-mardan/water-connection/apply/")
    page.select_option("#jurisdiction", "kp-mardan-mardan-nc-1")
    page.locator("input[name='data.connection_size'][value='half_inch']").check()
    (tmp_path / "cnic.pdf").write_bytes(PDF)
    (tmp_path / "undertaking.png").write_bytes(PNG)
    page.set_input_files("#file-cnic_copy", str(tmp_path / "cnic.pdf"))
    expect(page.locator("#slot-cnic_copy")).to_contain_text("cnic.pdf")
    page.set_input_files("#file-affidavit", str(tmp_path / "undertaking.png"))
    expect(page.locator("#slot-affidavit")).to_contain_text("undertaking.png")
    page.locator("button[value='review']").click()
    expect(page.locator("button[value='submit']")).to_be_visible()


def apply_for_a_water_connection(page: Page, tmp_path: Path) -> str:
    fill_application(page, tmp_path)
    page.locator("button[value='submit']").click()
    number = page.locator("[data-tracking-no]").inner_text().strip()
    assert re.fullmatch(r"MDN-\d\d-\d{6}", number), number
    return number


def official_acts(
    browser: Browser, server: str, official: object, number: str, body: dict[str, object]
) -> None:
    """A second browser context: the official's client calls the API with their token."""
    _, key = issue_token(official, name="e2e")  # type: ignore[arg-type]
    context = browser.new_context(base_url=server)
    response = context.request.post(
        f"/api/v1/applications/{number}/{'comments' if 'text' in body else 'actions'}",
        data=json.dumps(body),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert response.ok, response.text()
    context.close()


def test_a_citizen_applies_and_follows_the_application_live(
    browser: Browser, server: str, cast: People, tmp_path: Path
) -> None:
    context = phone_context(browser, server)
    page = context.new_page()
    sign_in(page, "03002222222")  # Bilal reads English

    number = apply_for_a_water_connection(page, tmp_path)

    application = Application.objects.get(tracking_no=number)
    assert application.attachments.count() == 2 and application.channel == "web"
    # An official acts through the API; the open page shows it without a reload.
    page.wait_for_function("() => document.querySelectorAll('#timeline li').length === 1")
    official_acts(
        browser, server, cast.kamran, number, {"text": "Arrears on the plot", "internal": True}
    )
    official_acts(browser, server, cast.kamran, number, {"action": "forward"})
    expect(page.locator("#timeline")).to_contain_text("Forward", timeout=2_000)
    expect(page.locator("#timeline")).not_to_contain_text("Arrears on the plot")

    page.fill("#comment-text", "When will the inspection be?")
    page.locator("section form button.btn-outline-primary").click()
    expect(page.locator("#timeline")).to_contain_text("When will the inspection be?")
    expect(page.locator("#timeline")).not_to_contain_text("Arrears on the plot")
    context.close()


def test_the_same_journey_in_urdu(
    browser: Browser, server: str, cast: People, tmp_path: Path
) -> None:
    context = phone_context(browser, server, "ur")
    page = context.new_page()
    sign_in(page, "03001111111")

    number = apply_for_a_water_connection(page, tmp_path)

    assert page.locator("html").get_attribute("dir") == "rtl"
    with translation.override("ur"):
        submitted = translation.gettext("Your application has been submitted.")
    assert submitted != "Your application has been submitted."
    expect(page.locator(".alert-success")).to_contain_text(submitted)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "application-ur.png"), full_page=True)
    assert Application.objects.filter(tracking_no=number).exists()
    context.close()


def test_a_form_sent_offline_is_kept_and_sent_once_when_back_online(
    browser: Browser, server: str, cast: People, tmp_path: Path
) -> None:
    context = phone_context(browser, server)
    page = context.new_page()
    sign_in(page, "03002222222")  # Bilal reads English
    fill_application(page, tmp_path)

    context.set_offline(True)
    page.locator("button[value='submit']").click()
    expect(page.locator(".waiting-to-send")).to_be_visible()
    assert Application.objects.count() == 0

    context.set_offline(False)
    expect(page.locator("[data-tracking-no]")).to_be_visible()
    page.reload()
    assert Application.objects.count() == 1
    context.close()


def test_pages_have_no_serious_accessibility_violations(
    browser: Browser, server: str, cast: People, tmp_path: Path
) -> None:
    context = phone_context(browser, server)
    page = context.new_page()
    sign_in(page, "03002222222")  # Bilal reads English
    number = apply_for_a_water_connection(page, tmp_path)
    found = {}
    for path in (
        "/",
        "/services/tma-mardan/water-connection/",
        "/services/tma-mardan/water-connection/apply/",
        f"/applications/{number}/",
    ):
        page.goto(path)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        found[path] = [
            f"{v['id']}: {v['help']}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
    assert found == {path: [] for path in found}
    context.close()
