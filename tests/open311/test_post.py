"""POST requests: who may (a live key within its rate), what is filed, and what is refused."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from ocsc.accounts.models import User
from ocsc.cases.models import Application, Event
from ocsc.clients.actions import client_named, issue_key, revoke_key
from ocsc.clients.models import ApiKey
from tests.open311.conftest import Open311
from tests.personas import People

pytestmark = pytest.mark.django_db


def light(**extra: Any) -> dict[str, Any]:
    """A street-light complaint as a civic app posts it."""
    return {
        "jurisdiction_id": "tma-mardan",
        "service_code": "street-light",
        "lat": "34.2",
        "long": "72.04",
        "phone": "03451234567",
        "description": "Dark since Sunday.",
        "attribute[problem]": "flicker",
        **extra,
    }


def errors_of(response: Any) -> list[str]:
    body = json.loads(response.content)
    assert {row["code"] for row in body} == {response.status_code}
    return [row["description"] for row in body]


@pytest.mark.parametrize("how", ["missing", "unknown", "revoked"])
def test_posting_needs_a_live_key(o311: Open311, people: People, api_key: str, how: str) -> None:
    key = {"missing": "", "unknown": "ocsck_" + "x" * 43, "revoked": api_key}[how]
    if how == "revoked":
        revoke_key(ApiKey.objects.get())

    response = o311.post("/requests.json", light(api_key=key))

    assert response.status_code == 403
    [message] = errors_of(response)
    assert message.startswith("api_key:")
    assert not Application.objects.exists()
    assert not User.objects.filter(phone="+923451234567").exists()


def test_revoking_takes_effect_on_the_next_request(
    o311: Open311, people: People, api_key: str
) -> None:
    first = o311.post("/requests.json", light(api_key=api_key))
    revoke_key(ApiKey.objects.get())
    second = o311.post("/requests.json", light(api_key=api_key))

    assert (first.status_code, second.status_code) == (201, 403)
    assert Application.objects.count() == 1


def test_past_the_rate_a_key_gets_429_until_the_next_minute(o311: Open311, people: People) -> None:
    raw = issue_key(client_named("Slow app"), rate_per_minute=2)[1]
    with time_machine.travel(datetime(2026, 12, 7, 5, 0, 10, tzinfo=UTC), tick=False) as clock:
        statuses = [o311.post("/requests.json", light(api_key=raw)).status_code for _ in range(2)]
        refused = o311.post("/requests.xml", light(api_key=raw))
        reading = o311.get("/services.json", api_key=raw)
        clock.move_to(datetime(2026, 12, 7, 5, 1, 0, tzinfo=UTC))
        next_minute = o311.post("/requests.json", light(api_key=raw))

    assert statuses == [201, 201]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "50"
    assert b"<errors><error><code>429</code><description>Too many requests" in refused.content
    assert reading.status_code == 429  # reads with the key count too
    assert next_minute.status_code == 201
    assert Application.objects.count() == 3


def test_a_new_number_becomes_a_citizen_and_a_known_one_is_matched(
    o311: Open311, people: People, api_key: str
) -> None:
    new = o311.post(
        "/requests.json",
        light(api_key=api_key, first_name="Gul", last_name="Khan", email="gul@example.org"),
    )
    known = o311.post(
        "/requests.json", light(api_key=api_key, phone="+92 300 1111111", first_name="Not Ayesha")
    )

    assert (new.status_code, known.status_code) == (201, 201)
    gul = User.objects.get(phone="+923451234567")
    assert (gul.name, gul.email, gul.has_usable_password()) == (
        "Gul Khan",
        "gul@example.org",
        False,
    )
    numbers = [json.loads(r.content)[0]["service_request_id"] for r in (new, known)]
    owners = dict(Application.objects.values_list("tracking_no", "citizen__phone"))
    assert owners == {numbers[0]: "+923451234567", numbers[1]: "+923001111111"}
    people.ayesha.refresh_from_db()
    assert people.ayesha.name == "Ayesha Khan"


def test_attributes_of_every_type_are_filed_as_the_form_data(
    o311: Open311, people: People, api_key: str
) -> None:
    response = o311.post(
        "/requests.json",
        light(
            api_key=api_key,
            address_string="Pole 14",
            **{
                "attribute[pole]": "P-14",
                "attribute[height]": "7.5",
                "attribute[also][]": ["wires", "pole"],
                "attribute[since]": "2026-11-29T18:30:00+05:00",
                "attribute[contact]": "0300-2222222",
                "attribute[owner_cnic]": "1710112345671",
                "attribute[notes]": "Near the mosque.",
            },
        ),
    )

    assert response.status_code == 201
    application = Application.objects.get()
    assert application.data == {
        "where": {"lat": 34.2, "lng": 72.04, "address": "Pole 14"},
        "pole": "P-14",
        "height": "7.5",
        "problem": "flicker",
        "also": ["wires", "pole"],
        "since": "2026-11-29",
        "contact": "+923002222222",
        "owner_cnic": "17101-1234567-1",
        "details": "Dark since Sunday.",
        "notes": "Near the mosque.",
    }
    assert application.location == {"lat": 34.2, "lng": 72.04, "address": "Pole 14"}
    assert application.organization.code == "tma-mardan"
    assert application.channel == "open311"


def test_a_description_without_a_form_field_is_the_first_comment(
    o311: Open311, people: People, api_key: str
) -> None:
    response = o311.post(
        "/requests.json",
        {
            "api_key": api_key,
            "service_code": "garbage-complaint",
            "jurisdiction_id": "tma-takht-bhai",
            "address_string": "Bus stand",
            "phone": "03451234567",
            "description": "Not lifted for days.",
        },
    )

    assert response.status_code == 201
    application = Application.objects.get()
    assert application.data == {"location": {"address": "Bus stand"}}
    assert list(application.events.values_list("kind", "actor_role", "text")) == [
        (Event.Kind.SUBMITTED, "citizen", ""),
        (Event.Kind.COMMENT, "citizen", "Not lifted for days."),
    ]


def test_every_problem_is_reported_at_once_and_nothing_is_written(
    o311: Open311, people: People, api_key: str
) -> None:
    response = o311.post(
        "/requests.json",
        light(
            api_key=api_key,
            phone="12345",
            email="not-an-address",
            description="",
            **{
                "attribute[problem]": "on_fire",
                "attribute[height]": "99",
                "attribute[colour]": "red",
            },
        ),
    )

    assert response.status_code == 400
    assert sorted(errors_of(response)) == [
        "attribute[colour]: unknown field; this form has also, contact, details, height, notes,"
        " owner_cnic, pole, problem, since, where",
        "attribute[height]: at most 20",
        "attribute[problem]: 'on_fire' is not one of dark, flicker",
        "description: Details is required",
        "email: not an e-mail address",
        "phone: 12345 is not a Pakistani mobile number: write it as 03001234567 or +923001234567.",
    ]
    assert not Application.objects.exists()
    assert not User.objects.filter(phone__endswith="12345").exists()


@pytest.mark.parametrize(
    ("changes", "status", "says"),
    [
        ({"service_code": ""}, 400, ["service_code: required"]),
        ({"service_code": "pothole"}, 404, ["service_code: no service 'pothole'"]),
        ({"service_code": "tma-takht-bhai:street-light"}, 400, ["service_code: tma-takht-bhai"]),
        ({"jurisdiction_id": "wssc-mardan"}, 404, ["jurisdiction_id: no organization"]),
        (
            {"lat": "", "long": "", "phone": ""},
            400,
            ["lat and long, or address_string: required", "phone: required"],
        ),
        ({"lat": "51.5", "long": "-0.12"}, 400, ["lat/long/address_string: 51.5, -0.12 is not"]),
        ({"long": ""}, 400, ["lat/long/address_string: lat and lng must both be numbers"]),
        ({"description": "x" * 4001}, 400, ["description: at most 4000 characters"]),
        (
            {"description": "dark\x00", "attribute[pole]": "\x00"},
            400,
            ["attribute[pole]: contains a NUL", "description: contains a NUL"],
        ),
    ],
)
def test_bad_requests_are_refused_as_the_spec_says(
    o311: Open311,
    people: People,
    api_key: str,
    changes: dict[str, str],
    status: int,
    says: list[str],
) -> None:
    response = o311.post("/requests.json", light(api_key=api_key, **changes))

    assert response.status_code == status
    messages = errors_of(response)
    assert len(messages) == len(says)
    for message, start in zip(messages, says, strict=True):
        assert message.startswith(start), message
    assert not Application.objects.exists()


def test_the_key_may_come_in_the_query_or_a_header(
    o311: Open311, people: People, api_key: str
) -> None:
    in_query = o311.client.post(f"/open311/v2/requests.json?api_key={api_key}", light())
    in_header = o311.client.post(
        "/open311/v2/requests.json", light(), headers={"X-API-Key": api_key}
    )

    assert (in_query.status_code, in_header.status_code) == (201, 201)
