"""Sign-in and tokens: listed, revoked (401 at once), expired (401); the portal's session."""

from datetime import timedelta

import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from ocsc.accounts.models import ApiToken
from ocsc.cases.models import Application
from tests.api.conftest import Api, sms_code
from tests.personas import People, upload, water_connection


def password_token(phone: str, name: str) -> str:
    response = Api().post(
        "/auth/token", {"phone": phone, "password": "pw-official-2026", "name": name}
    )
    assert response.status_code == 200, response.json()
    key: str = response.json()["token"]
    return key


def test_tokens_are_listed_and_revoked_at_once(people: People) -> None:
    phone_key = password_token(people.kamran.phone, "phone")
    tablet_key = password_token(people.kamran.phone, "tablet")
    phone, tablet = Api(key=phone_key), Api(key=tablet_key)

    listed = phone.get("/auth/tokens")
    assert listed.status_code == 200
    rows = {row["name"]: row for row in listed.json()}
    assert set(rows) == {"phone", "tablet"}
    assert rows["phone"]["prefix"] == phone_key[5:13] and rows["phone"]["current"] is True
    assert rows["tablet"]["current"] is False and rows["tablet"]["revoked_at"] is None
    assert "token" not in rows["phone"] and phone_key not in listed.content.decode()
    assert not ApiToken.objects.filter(key_hash=phone_key).exists()  # stored hashed

    assert tablet.delete("/auth/token").status_code == 204
    refused = tablet.get("/me")
    assert refused.status_code == 401
    assert refused.json()["code"] == "not_signed_in"
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert phone.get("/me").status_code == 200
    assert {r["name"]: r["revoked_at"] is not None for r in phone.get("/auth/tokens").json()} == {
        "phone": False,
        "tablet": True,
    }

    someone_else = Api(people.bilal).delete(f"/auth/tokens/{phone_key[5:13]}")
    assert someone_else.status_code == 404
    assert phone.get("/me").status_code == 200
    assert phone.delete(f"/auth/tokens/{phone_key[5:13]}").status_code == 204
    assert phone.get("/me").status_code == 401


def test_a_token_expires(people: People) -> None:
    key = password_token(people.sana.phone, "phone")
    days = settings.API_TOKEN_DAYS
    with time_machine.travel(timezone.now() + timedelta(days=days) - timedelta(minutes=1)):
        assert Api(key=key).get("/me").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=days, minutes=1)):
        expired = Api(key=key).get("/me")
    assert expired.status_code == 401
    assert expired.json()["code"] == "not_signed_in"


def test_a_made_up_or_malformed_token_is_401(people: People) -> None:
    for header in ("Bearer ocsc_nonsense", "Bearer", "Token abc", "ocsc_abc"):
        response = Client(headers={"Authorization": header}).get("/api/v1/me")
        assert response.status_code == 401, header
        assert response.json()["code"] == "not_signed_in"


def test_the_code_signs_in_once_and_me_shows_postings(people: People) -> None:
    assert Api().post("/auth/otp", {"phone": "0300 333 3333"}).status_code == 202
    code = sms_code(people.kamran.phone)
    signed = Api().post("/auth/token", {"phone": "+923003333333", "otp": code})
    assert signed.status_code == 200
    assert signed.json()["user"]["name"] == "Kamran Ali"
    again = Api().post("/auth/token", {"phone": "+923003333333", "otp": code})
    assert again.status_code == 401 and again.json()["code"] == "code_expired"

    me = Api(key=signed.json()["token"]).get("/me").json()
    assert me["phone"] == "+923003333333" and me["is_monitor"] is False
    assert me["postings"] == [
        {
            "organization": {
                "code": "tma-mardan",
                "name": {"en": "TMA Mardan", "ur": "ٹی ایم اے مردان"},
            },
            "role": {"code": "clerk", "name": {"en": "Dealing Assistant", "ur": "ڈیلنگ اسسٹنٹ"}},
            "jurisdiction": None,
            "starts_on": timezone.localdate().isoformat(),
            "ends_on": None,
        }
    ]
    faisal = Api(people.faisal).get("/me").json()
    assert faisal["postings"][0]["jurisdiction"] == "kp-mardan-mardan-nc-2"
    assert Api(people.maryam).get("/me").json()["is_monitor"] is True


def test_a_wrong_password_is_401(people: People) -> None:
    wrong = Api().post("/auth/token", {"phone": people.kamran.phone, "password": "guess"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "wrong_password"


def test_the_portal_session_works_with_csrf(people: People) -> None:
    application = water_connection(people)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(people.ayesha)
    assert browser.get("/api/v1/me").json()["phone"] == people.ayesha.phone

    path = f"/api/v1/applications/{application.tracking_no}/comments"
    body = {"text": "Any news?"}
    forged = browser.post(path, body, content_type="application/json")
    assert forged.status_code == 403 and forged.json()["code"] == "csrf_failed"
    browser.get("/api/v1/docs")  # any page that sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    posted = browser.post(
        path, body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert posted.status_code == 201

    submitted = browser.post(
        "/api/v1/applications",
        {
            "service": "water-connection",
            "jurisdiction": "kp-mardan-mardan-nc-1",
            "data": {"connection_size": "one_inch"},
            "documents": {"cnic_copy": upload(people.ayesha), "affidavit": upload(people.ayesha)},
        },
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert submitted.status_code == 201
    assert Application.objects.get(tracking_no=submitted.json()["tracking_no"]).channel == "web"

    no_bearer = browser.delete("/api/v1/auth/token", headers={"X-CSRFToken": token})
    assert no_bearer.status_code == 401  # the session signs out through the portal


def test_an_anonymous_session_is_401_not_a_csrf_failure(people: People) -> None:
    number = water_connection(people).tracking_no
    response = Client(enforce_csrf_checks=True).post(
        f"/api/v1/applications/{number}/comments", {"text": "hi"}, content_type="application/json"
    )
    assert response.status_code == 401
