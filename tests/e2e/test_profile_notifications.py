"""Choosing how to be told, and turning on notifications on this phone, in the browser.

Headless Chromium reaches no real push service, so the page's PushManager is stubbed to hand
out a subscription; everything else — permission, the service worker, the page's script,
the server keeping the subscription and the choices — is the real thing."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, expect
from pytest_django.fixtures import Settings

from ocsc.notify.models import Preferences, PushSubscription
from tests.e2e.conftest import phone_context
from tests.e2e.test_citizen_journey import AXE, sign_in
from tests.personas import People, make_people

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cast(server: str, mini_catalog: None) -> People:
    return make_people()


FAKE_PUSH_SERVICE = """
const subscription = {
  endpoint: "https://fcm.googleapis.com/fcm/send/e2e-phone",
  toJSON() { return {endpoint: this.endpoint, keys: {p256dh: "BKey-e2e", auth: "auth-e2e"}}; },
};
PushManager.prototype.getSubscription = async function () {
  return localStorage.getItem("server-key-bytes") ? subscription : null;
};
PushManager.prototype.subscribe = async function (options) {
  localStorage.setItem("server-key-bytes", options.applicationServerKey.byteLength);
  return subscription;
};
"""


def test_a_citizen_turns_on_this_phone_and_chooses_what_reaches_it(
    browser: Browser,
    server: str,
    cast: People,
    settings: Settings,  # noqa: F811
) -> None:
    out = StringIO()
    call_command("vapid_keys", stdout=out)
    keys = dict(line.split("=", 1) for line in out.getvalue().split())
    settings.VAPID_PUBLIC_KEY = keys["VAPID_PUBLIC_KEY"]
    settings.VAPID_PRIVATE_KEY = keys["VAPID_PRIVATE_KEY"]
    context = phone_context(browser, server)
    context.grant_permissions(["notifications"])
    context.add_init_script(FAKE_PUSH_SERVICE)
    page = context.new_page()
    sign_in(page, "03002222222")  # Bilal

    page.goto("/profile/")
    expect(page.locator("#channel-receipt-sms")).to_be_checked()  # on by default
    expect(page.locator("#channel-decision-sms")).to_be_checked()
    page.get_by_role("button", name="Turn on notifications on this phone").click()
    expect(page.locator("[data-push-status]")).to_contain_text("Notifications are on")
    assert page.evaluate("localStorage.getItem('server-key-bytes')") == "65"  # the VAPID key
    subscription = PushSubscription.objects.get()
    assert (subscription.user, subscription.endpoint, subscription.p256dh) == (
        cast.bilal,
        "https://fcm.googleapis.com/fcm/send/e2e-phone",
        "BKey-e2e",
    )

    page.locator("#channel-decision-push").check()
    page.locator("#channel-receipt-sms").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#channel-decision-push")).to_be_checked()
    assert Preferences.objects.get(user=cast.bilal).channels == {
        "receipt": [],
        "decision": ["push", "sms"],
        "progress": [],
    }
    page.reload()  # a later visit knows the phone is on
    expect(page.locator("[data-push-status]")).to_contain_text("Notifications are on")
    context.close()


@pytest.mark.parametrize("language", ["en", "ur"])
def test_the_profile_page_has_no_serious_accessibility_violations(
    browser: Browser,
    server: str,
    cast: People,
    settings: Settings,
    language: str,
    tmp_path: Path,
) -> None:
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = "BKey", "key"
    context = phone_context(browser, server, language)
    page = context.new_page()
    sign_in(page, "03001111111" if language == "ur" else "03002222222")

    page.goto("/profile/")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")

    serious = [
        f"{v['id']}: {v['help']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    context.close()
