"""Two-factor sign-in for officials with an authenticator app, required for heads by setting."""

import pytest
from django.test import Client
from django.utils import timezone

from ocsc.accounts import totp
from ocsc.accounts.models import TotpDevice
from tests.personas import People

pytestmark = pytest.mark.django_db


def current_code(secret: str) -> str:
    return totp.code_at(secret, totp.counter_of(timezone.now()))


def password_step(client: Client, phone: str) -> str:
    response = client.post(
        "/signin/", {"stage": "password", "phone": phone, "password": "pw-official-2026"}
    )
    return response.content.decode()


def test_an_official_with_an_authenticator_gives_its_code(client: Client, people: People) -> None:
    device = TotpDevice.objects.create(
        user=people.kamran, secret=totp.new_secret(), confirmed_at=timezone.now()
    )

    page = password_step(client, "03003333333")
    assert "Code from your authenticator app" in page
    assert client.get("/staff/queue/").status_code == 302  # not signed in yet
    wrong = client.post("/signin/", {"stage": "totp", "phone": "+923003333333", "code": "000000"})
    assert wrong.status_code == 422
    code = current_code(device.secret)
    done = client.post("/signin/", {"stage": "totp", "phone": "+923003333333", "code": code})
    assert done.status_code == 302
    assert client.get("/staff/queue/").status_code == 200
    # The same code is not accepted twice.
    other = Client()
    password_step(other, "03003333333")
    again = other.post("/signin/", {"stage": "totp", "phone": "+923003333333", "code": code})
    assert again.status_code == 422


def test_heads_must_set_it_up_when_the_setting_says_so(
    client: Client, people: People, settings: object
) -> None:
    settings.REQUIRE_2FA_FOR_HEADS = True  # type: ignore[attr-defined]
    response = client.post(
        "/signin/",
        {"stage": "password", "phone": "03007777777", "password": "pw-official-2026"},
    )
    assert response["Location"].startswith("/staff/two-factor/")
    assert client.get("/staff/dashboard/").status_code == 302

    page = client.get("/staff/two-factor/").content.decode()
    secret = TotpDevice.objects.get(user=people.tariq).secret
    assert secret in page
    client.post("/staff/two-factor/", {"code": current_code(secret)})

    assert client.get("/staff/dashboard/").status_code == 200
    # A clerk is not asked.
    clerk = Client()
    assert (
        clerk.post(
            "/signin/",
            {"stage": "password", "phone": "03003333333", "password": "pw-official-2026"},
        )["Location"]
        == "/"
    )
