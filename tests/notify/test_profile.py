"""Choosing channels on the profile page."""

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from ocsc.notify.models import Preferences
from ocsc.notify.queries import chosen_channels
from tests.personas import People

pytestmark = pytest.mark.django_db


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def checked(html: str, topic: str, channel: str) -> bool:
    start = html.index(f'id="channel-{topic}-{channel}"')
    return " checked" in html[start : html.index(">", start)]


def test_sms_for_the_receipt_and_decisions_is_on_until_the_citizen_chooses(
    people: People,
) -> None:
    html = signed_in(people.bilal).get("/profile/").content.decode()

    assert checked(html, "receipt", "sms") and checked(html, "decision", "sms")
    assert not checked(html, "progress", "sms") and not checked(html, "receipt", "email")
    assert 'id="channel-work-sms"' not in html  # an official's topics only for officials
    assert 'id="channel-receipt-push"' not in html and 'id="push"' not in html  # no VAPID keys
    assert "Your tracking number when you apply" in html


def test_the_citizen_s_choices_and_e_mail_are_kept(people: People) -> None:
    client = signed_in(people.bilal)
    form = {
        "name": "Bilal Ahmad",
        "language": "en",
        "email": "bilal@example.org",
        "channels": "1",
        "channels.receipt": ["sms", "email"],
        "channels.progress": ["email", "fax"],
    }

    response = client.post("/profile/", form)

    assert response.status_code == 302
    people.bilal.refresh_from_db()
    assert people.bilal.email == "bilal@example.org"
    assert Preferences.objects.get(user=people.bilal).channels == {
        "receipt": ["email", "sms"],
        "decision": [],  # unticked: in-app only
        "progress": ["email"],
    }
    assert chosen_channels([people.bilal])[people.bilal.pk]["decision"] == ()
    html = client.get("/profile/").content.decode()
    assert checked(html, "receipt", "email") and not checked(html, "decision", "sms")


def test_a_bad_e_mail_address_is_refused_and_nothing_saved(people: People) -> None:
    form = {"name": "Bilal", "language": "en", "email": "bilal@", "channels": "1"}

    response = signed_in(people.bilal).post("/profile/", form)

    assert response.status_code == 422
    assert "name@example.com" in response.content.decode()
    assert not Preferences.objects.exists()


def test_a_form_without_the_table_leaves_the_choices_alone(people: People) -> None:
    response = signed_in(people.bilal).post("/profile/", {"name": "Bilal", "language": "ur"})

    assert response.status_code == 302
    assert not Preferences.objects.exists()


def test_officials_choose_for_their_work_and_phones_can_be_turned_on(
    people: People, settings: Settings
) -> None:
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = "BPublicKey", "private"

    html = signed_in(people.tariq).get("/profile/").content.decode()

    assert checked(html, "escalation", "sms") and checked(html, "digest", "email")
    assert not checked(html, "work", "sms") and not checked(html, "work", "push")
    assert 'data-push-key="BPublicKey"' in html and 'data-push-url="/push/subscription"' in html
    assert "Turn on notifications on this phone" in html


def test_the_service_worker_shows_pushes_and_opens_the_application(client: Client) -> None:
    script = client.get("/sw.js").content.decode()

    assert 'addEventListener("push"' in script and "showNotification" in script
    assert 'addEventListener("notificationclick"' in script and "openWindow" in script
