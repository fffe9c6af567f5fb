"""Published Open311 clients from PyPI against OCSC on a loopback port.

civicbot (0.4) is a complete GeoReport v2 client: it lists services, reads definitions,
checks a request against the live definition, POSTs it form-encoded and reads it back —
in JSON only. georeport (0.3.1) reads (no POST) in JSON or XML, parsing XML with xmltodict;
it reads the XML here. The older `open311` (1.1) and `three` (0.8) packages are Python 2
code and do not import on Python 3.13."""

from typing import Any

import pytest
from civicbot import Endpoint, HttpError, HttpTransport, Open311Client
from civicbot.http import RateLimiter
from georeport import GeoReport

from ocsc.accounts.models import User
from ocsc.cases.models import Application, Event
from ocsc.clients.models import FiledRequest
from tests.open311.conftest import O311, garbage
from tests.personas import People

pytestmark = pytest.mark.django_db(transaction=True)


def civicbot(server: str, jurisdiction_id: str | None = None) -> Open311Client:
    endpoint = Endpoint(id="ocsc", name="OCSC", base_url=server + O311, write=True)
    quick = HttpTransport(rate_limiter=RateLimiter(min_interval=0))  # it is our own server
    return Open311Client(endpoint, transport=quick, jurisdiction_id=jurisdiction_id)


def test_civicbot_lists_reads_posts_and_reads_back(
    server: str, people: People, api_key: str
) -> None:
    app = civicbot(server, jurisdiction_id="tma-mardan")

    services = app.list_services()
    definition = app.get_service_definition("street-light")
    filed = app.create_request(
        "street-light",
        dry_run=False,
        confirm="SEND",
        api_key=api_key,
        validate_remote=True,  # checks the attributes against the definition it reads
        lat=34.2012,
        lng=72.0468,
        address_string="Pole 14, Bagh-e-Iram road",
        description="The light at the chowk has been dark for a week.",
        attributes={"problem": "dark", "also": ["wires", "pole"], "height": 6},
        phone="0345-1234567",
        first_name="Gul",
        last_name="Khan",
        email="gul@example.org",
    )
    [answer] = filed.response
    number = answer["service_request_id"]
    read_back = app.get_request(number)
    listed = app.list_requests(service_request_ids=[number])
    token = app.get_token(number)

    assert [(s["service_code"], s["metadata"], s["group"]) for s in services] == [
        ("garbage-complaint", False, "TMA Mardan"),
        ("street-light", True, "TMA Mardan"),
    ]
    attributes = definition["attributes"]
    assert [(a["code"], a["datatype"], a["required"], a["order"]) for a in attributes] == [
        ("pole", "string", False, 1),
        ("height", "number", False, 2),
        ("problem", "singlevaluelist", True, 3),
        ("also", "multivaluelist", False, 4),
        ("since", "datetime", False, 5),
        ("contact", "string", False, 6),
        ("owner_cnic", "string", False, 7),
        ("notes", "text", False, 8),
    ]
    assert attributes[2]["values"] == [
        {"key": "dark", "name": "Not lighting"},
        {"key": "flicker", "name": "Flickering"},
    ]
    assert number == "MDN-26-000001"
    assert answer == {"service_request_id": number, "service_notice": "", "account_id": None}
    assert read_back is not None
    assert {k: read_back[k] for k in ("status", "service_code", "description", "address")} == {
        "status": "open",
        "service_code": "street-light",
        "description": "The light at the chowk has been dark for a week.",
        "address": "Pole 14, Bagh-e-Iram road",
    }
    assert (read_back["lat"], read_back["long"]) == (34.2012, 72.0468)
    assert read_back["agency_responsible"] == "TMA Mardan"
    assert read_back["expected_datetime"] > read_back["requested_datetime"]
    assert listed == [read_back]
    assert token == [{"service_request_id": number, "token": number}]

    application = Application.objects.select_related("citizen").get(tracking_no=number)
    assert application.channel == "open311"
    assert application.jurisdiction.code == "kp-mardan-mardan"
    assert (application.citizen.phone, application.citizen.name) == ("+923451234567", "Gul Khan")
    assert application.citizen.email == "gul@example.org"
    assert application.data == {
        "where": {"lat": 34.2012, "lng": 72.0468, "address": "Pole 14, Bagh-e-Iram road"},
        "problem": "dark",
        "also": ["wires", "pole"],
        "height": "6",
        "details": "The light at the chowk has been dark for a week.",
    }
    assert FiledRequest.objects.get(application=application).key.client.name == "Mardan Civic App"
    assert list(application.events.values_list("kind", "data")) == [
        (Event.Kind.SUBMITTED, {"channel": "open311", "documents": []})
    ]


def test_civicbot_without_a_jurisdiction_names_services_by_organization(
    server: str, people: People, api_key: str
) -> None:
    """Two TMAs offer garbage-complaint: without jurisdiction_id, codes carry the TMA."""
    bilal_before = User.objects.get(phone="+923002222222")
    app = civicbot(server)

    codes = [s["service_code"] for s in app.list_services()]
    filed = app.create_request(
        "tma-takht-bhai:garbage-complaint",
        dry_run=False,
        confirm="SEND",
        api_key=api_key,
        address_string="Behind the bus stand, Takht Bhai",
        description="A heap since Friday.",
        phone="+923002222222",  # Bilal's number: his account, not a new one
        first_name="Someone",
        last_name="Else",
    )
    number = filed.response[0]["service_request_id"]
    read_back = app.get_request(number)
    with pytest.raises(HttpError) as refused:
        app.get_service_definition("garbage-complaint")

    assert codes == [
        "tma-mardan:garbage-complaint",
        "tma-takht-bhai:garbage-complaint",
        "tma-mardan:street-light",
    ]
    assert number == "TKB-26-000001"
    assert read_back is not None
    assert read_back["service_code"] == "tma-takht-bhai:garbage-complaint"
    assert read_back["description"] == "A heap since Friday."  # the applicant's first comment
    assert read_back["lat"] is None and read_back["address"] == "Behind the bus stand, Takht Bhai"
    assert refused.value.status == 400
    assert "jurisdiction_id" in refused.value.body
    application = Application.objects.get(tracking_no=number)
    assert application.citizen == bilal_before
    assert User.objects.get(pk=bilal_before.pk).name == "Bilal Ahmad"  # not renamed
    assert application.jurisdiction.code == "kp-mardan-takht-bhai"


def test_georeport_reads_services_definitions_and_requests_in_xml(
    server: str, people: People
) -> None:
    mine = garbage(people)
    client = GeoReport(server + O311, jurisdiction="tma-mardan", output_format="xml")

    services: Any = client.get_service_list()
    definition: Any = client.get_service_definition("street-light")
    requests: Any = client.get_service_requests(status="open")
    one: Any = client.get_service_request(mine.tracking_no)

    assert [(s["service_code"], s["metadata"]) for s in services] == [
        ("garbage-complaint", "false"),
        ("street-light", "true"),
    ]
    attributes = definition["attributes"]["attribute"]
    assert [a["code"] for a in attributes][:3] == ["pole", "height", "problem"]
    assert attributes[2]["values"]["value"][0] == {"key": "dark", "name": "Not lighting"}
    assert requests["service_request_id"] == mine.tracking_no  # one request: a mapping
    assert one["service_request_id"] == mine.tracking_no
    assert (one["status"], one["lat"], one["long"]) == ("open", "34.2", "72.04")
    assert one["address"] == "Bagh-e-Iram chowk"


def test_georeport_reads_the_same_in_json(server: str, people: People) -> None:
    mine = garbage(people, org="tma-takht-bhai")
    client = GeoReport(server + O311)

    services = client.get_service_list()
    requests = client.get_service_requests(service_code="tma-takht-bhai:garbage-complaint")

    assert len(services) == 3
    assert [r["service_request_id"] for r in requests] == [mine.tracking_no]
    assert client.get_service_request(mine.tracking_no)["agency_responsible"] == "TMA Takht Bhai"
