"""Every endpoint in both formats: JSON arrays as the spec shows them (the definition and
discovery are objects), XML well formed with the spec's element names, errors as a list."""

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocsc.cases.actions import add_comment
from tests.open311.conftest import Open311, garbage
from tests.personas import People

pytestmark = pytest.mark.django_db

REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def xml_of(response: Any) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(response.content)  # noqa: S314 - our own output, parsed to check it


def json_of(response: Any) -> Any:
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def shape(node: ET.Element) -> Any:
    """The element tree's names: a leaf's tag, or {tag: [children's shapes]}."""
    children = list(node)
    return {node.tag: [shape(c) for c in children]} if children else node.tag


def test_services(o311: Open311, people: People) -> None:
    as_json = json_of(o311.get("/services.json", jurisdiction_id="tma-mardan"))
    root = xml_of(o311.get("/services.xml", jurisdiction_id="tma-mardan"))

    assert isinstance(as_json, list)
    service = [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert [list(row) for row in as_json] == [service, service]
    assert shape(root) == {"services": [{"service": service}, {"service": service}]}
    assert [s.findtext("service_code") for s in root] == ["garbage-complaint", "street-light"]
    assert root.findtext("service/metadata") == "false"


def test_service_definition(o311: Open311, people: People) -> None:
    as_json = json_of(o311.get("/services/tma-mardan:street-light.json"))
    root = xml_of(o311.get("/services/tma-mardan:street-light.xml"))

    assert as_json["service_code"] == "tma-mardan:street-light"
    assert isinstance(as_json["attributes"], list)
    assert root.tag == "service_definition"
    assert [child.tag for child in root] == ["service_code", "attributes"]
    attributes = root.findall("attributes/attribute")
    assert len(attributes) == len(as_json["attributes"]) == 8
    assert [child.tag for child in attributes[2]] == [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    ]
    assert shape(attributes[2].find("values")) == {
        "values": [{"value": ["key", "name"]}, {"value": ["key", "name"]}]
    }
    assert [(v.findtext("key"), v.findtext("name")) for v in attributes[2].iter("value")] == [
        ("dark", "Not lighting"),
        ("flicker", "Flickering"),
    ]


def test_labels_follow_accept_language(o311: Open311, people: People) -> None:
    response = o311.client.get(
        "/open311/v2/services/street-light.json?jurisdiction_id=tma-mardan",
        headers={"Accept-Language": "ur"},
    )

    problem = json_of(response)["attributes"][2]
    assert (problem["description"], problem["values"][0]["name"]) == ("مسئلہ", "نہیں جلتی")


def test_requests_and_one_request(o311: Open311, people: People) -> None:
    mine = garbage(people)

    listed = json_of(o311.get("/requests.json"))
    one = json_of(o311.get(f"/requests/{mine.tracking_no}.json"))
    root = xml_of(o311.get("/requests.xml"))
    one_root = xml_of(o311.get(f"/requests/{mine.tracking_no}.xml"))

    assert isinstance(listed, list) and isinstance(one, list)
    assert [list(row) for row in listed] == [REQUEST_FIELDS]
    assert one == listed
    assert shape(root) == {"service_requests": [{"request": REQUEST_FIELDS}]}
    assert shape(one_root) == shape(root)
    assert root.findtext("request/service_request_id") == mine.tracking_no
    assert root.findtext("request/lat") == "34.2"


def test_tokens(o311: Open311, people: People) -> None:
    mine = garbage(people)

    as_json = json_of(o311.get(f"/tokens/{mine.tracking_no}.json"))
    root = xml_of(o311.get(f"/tokens/{mine.tracking_no}.xml"))

    assert as_json == [{"service_request_id": mine.tracking_no, "token": mine.tracking_no}]
    assert shape(root) == {"service_requests": [{"request": ["service_request_id", "token"]}]}


def test_discovery(o311: Open311, people: People) -> None:
    as_json = json_of(o311.get("/discovery.json"))
    root = xml_of(o311.get("/discovery.xml"))

    assert list(as_json) == ["changeset", "contact", "key_service", "endpoints"]
    [endpoint] = as_json["endpoints"]
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert [child.tag for child in root] == ["changeset", "contact", "key_service", "endpoints"]
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


@given(text=st.text(max_size=300))
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_description_comes_back_in_well_formed_xml(
    o311: Open311, people: People, api_key: str, text: str
) -> None:
    """Whatever text a citizen sends, the XML that carries it parses, and says the same but
    for the characters XML cannot carry (and line ends, which XML normalizes)."""
    filed = o311.post(
        "/requests.json",
        {
            "api_key": api_key,
            "jurisdiction_id": "tma-takht-bhai",
            "service_code": "garbage-complaint",
            "address_string": "Bus stand",
            "phone": "03451234567",
            "description": text,
        },
    )
    if "\x00" in text:
        assert filed.status_code == 400
        return
    assert filed.status_code == 201, filed.content
    number = json.loads(filed.content)[0]["service_request_id"]

    root = xml_of(o311.get(f"/requests/{number}.xml", jurisdiction_id="tma-takht-bhai"))

    said = root.findtext("request/description")
    expected = "".join(c for c in text.strip() if c in "\t\n\r" or c >= " ")
    expected = expected.replace("\r\n", "\n").replace("\r", "\n")
    assert said == expected.replace("\ufffe", "").replace("\uffff", "")


def test_text_xml_cannot_carry_is_dropped_and_the_rest_escaped(
    o311: Open311, people: People
) -> None:
    mine = garbage(people)
    add_comment(mine, actor=people.ayesha, text="Bins <full> & spilling\x0b \x01on the road")

    root = xml_of(o311.get(f"/requests/{mine.tracking_no}.xml"))

    assert root.findtext("request/description") == "Bins <full> & spilling on the road"


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("/services.{fmt}", {"jurisdiction_id": "tma-peshawar"}, 404, "jurisdiction_id"),
        ("/services/no-such-thing.{fmt}", {}, 404, "service_code"),
        ("/services/garbage-complaint.{fmt}", {}, 400, "several organizations"),
        ("/services/water-connection.{fmt}", {"jurisdiction_id": "tma-mardan"}, 404, "service"),
        ("/services/encroachment.{fmt}", {"jurisdiction_id": "tma-mardan"}, 404, "service"),
        ("/requests/MDN-26-999999.{fmt}", {}, 404, "service_request_id"),
        ("/tokens/abc.{fmt}", {}, 404, "token"),
        ("/requests.{fmt}", {"status": "pending"}, 400, "status"),
        ("/requests.{fmt}", {"start_date": "yesterday"}, 400, "start_date"),
        ("/requests.{fmt}", {"start_date": "2026-01-01", "end_date": "2026-12-01"}, 400, "90"),
        ("/requests.{fmt}", {"page_size": "0"}, 400, "page_size"),
        ("/requests.{fmt}", {"api_key": "ocsck_wrong"}, 403, "api_key"),
        ("/unknown.{fmt}", {}, 404, "discovery"),
        ("/services.{fmt}", {"jurisdiction_id": "tma\x00"}, 400, "NUL"),
    ],
)
def test_errors_are_lists_of_code_and_description(
    o311: Open311, people: People, path: str, params: dict[str, str], status: int, says: str
) -> None:
    as_json = o311.get(path.format(fmt="json"), **params)
    as_xml = o311.get(path.format(fmt="xml"), **params)

    assert (as_json.status_code, as_xml.status_code) == (status, status)
    [error] = json_of(as_json)
    assert error["code"] == status
    assert says in error["description"]
    root = xml_of(as_xml)
    assert shape(root) == {"errors": [{"error": ["code", "description"]}]}
    assert root.findtext("error/code") == str(status)
    assert root.findtext("error/description") == error["description"]


def test_a_wrong_method_is_405_with_allow(o311: Open311, people: People) -> None:
    response = o311.post("/services.json", {})

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert json_of(response)[0]["code"] == 405
