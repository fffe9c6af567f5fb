"""The public catalog, the OpenAPI schema and the offline docs page."""

import pytest

from tests.api.conftest import Api

WATER, GARBAGE = "tma-mardan/water-connection", "tma-mardan/garbage-complaint"


def test_jurisdictions_and_organizations(mini_catalog: None) -> None:
    areas = {j["code"]: j for j in Api().get("/jurisdictions").json()}
    assert areas["kp"]["parent"] is None
    assert areas["kp-mardan-mardan-nc-1"] == {
        "code": "kp-mardan-mardan-nc-1",
        "kind": "neighbourhood_council",
        "name": {"en": "Bagh-e-Iram", "ur": "باغ ارم"},
        "parent": "kp-mardan-mardan",
    }
    organizations = {o["code"]: o for o in Api().get("/organizations").json()}
    assert organizations["tma-mardan"] == {
        "code": "tma-mardan",
        "name": {"en": "TMA Mardan", "ur": "ٹی ایم اے مردان"},
        "kind": "tma",
        "prefix": "MDN",
        "serves": ["kp-mardan-mardan"],
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, [GARBAGE, WATER, "tma-takht-bhai/garbage-complaint"]),
        ({"organization": "tma-takht-bhai"}, ["tma-takht-bhai/garbage-complaint"]),
        ({"jurisdiction": "kp-mardan-mardan-nc-1"}, [GARBAGE, WATER]),
        ({"jurisdiction": "kp-mardan-takht-bhai"}, ["tma-takht-bhai/garbage-complaint"]),
        ({"jurisdiction": "kp"}, []),  # no one serves the whole province
        ({"category": "application"}, [WATER]),
        ({"q": "WATER"}, [WATER]),
        ({"q": "پانی"}, [WATER]),
        ({"q": "garbage", "jurisdiction": "kp-mardan-mardan"}, [GARBAGE]),
    ],
)  # fmt: skip
def test_services_are_filtered(
    mini_catalog: None, query: dict[str, str], expected: list[str]
) -> None:
    response = Api().get("/services", **query)
    assert response.status_code == 200
    assert [f"{s['organization']['code']}/{s['code']}" for s in response.json()] == expected


def test_an_unknown_area_or_category_is_named(mini_catalog: None) -> None:
    assert "jurisdiction" in Api().get("/services", jurisdiction="atlantis").json()["errors"]
    assert "category" in Api().get("/services", category="party").json()["errors"]


def test_a_service_shows_its_form_requirements_fee_and_steps(mini_catalog: None) -> None:
    service = Api().get("/organizations/tma-mardan/services/water-connection").json()
    assert service["fee"] == {"amount": "1000.00", "currency": "PKR"}
    assert service["timeline"] == "20d"
    assert [f["key"] for f in service["fields"]] == ["connection_size"]
    requirements = {r["code"]: r for r in service["requirements"]}
    assert requirements["affidavit"]["text"] == {"en": "I will not tap the line illegally."}
    assert (requirements["cnic_copy"]["collected_at"], requirements["cnic_copy"]["step"]) == (
        "submission",
        None,
    )
    assert requirements["inspection_report"]["collected_at"] == "step"
    assert requirements["inspection_report"]["step"] == "site_inspection"

    steps = service["steps"]
    assert [s["state"] for s in steps] == [
        "scrutiny",
        "correction",
        "site_inspection",
        "approval",
        "payment",
        "payment_check",
        "installation",
        "connected",
        "rejected",
        "lapsed",
    ]  # fmt: skip, the author's order
    assert service["main_path"] == [
        "scrutiny", "site_inspection", "approval", "payment", "payment_check", "installation",
        "connected",
    ]  # fmt: skip
    scrutiny = steps[0]
    assert scrutiny["owner"] == {
        "code": "clerk",
        "name": {"en": "Dealing Assistant", "ur": "ڈیلنگ اسسٹنٹ"},
    }
    assert scrutiny["timeline"] == "2d"
    assert scrutiny["duty"] == {"en": "Check that the documents are complete"}
    assert [(a["action"], a["comment_required"]) for a in scrutiny["actions"]] == [
        ("forward", False),
        ("return", True),
        ("reject", True),
    ]
    correction = next(s for s in steps if s["state"] == "correction")
    assert correction["owner"]["code"] == "citizen"
    assert {a["action"]: a["by"] for a in correction["actions"]} == {
        "resubmit": "owner",
        "lapse": "system",
    }
    assert next(s for s in steps if s["state"] == "payment")["fee"] is True
    connected = next(s for s in steps if s["state"] == "connected")
    assert (connected["owner"], connected["outcome"], connected["actions"]) == (
        None,
        "approved",
        [],
    )


def test_an_unknown_service_is_a_json_404(mini_catalog: None) -> None:
    for path in ("/organizations/tma-mardan/services/moon", "/organizations/nowhere/services/x"):
        response = Api().get(path)
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_the_openapi_schema_and_the_docs_page_work_offline(db: None) -> None:
    schema = Api().get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/applications/{tracking_no}/actions" in paths
    assert "bearer" in str(schema.json()["components"]["securitySchemes"]).lower()

    page = Api().client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/v1/openapi.json" in html
    assert "http://" not in html and "https://" not in html and "cdn" not in html.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui-init.js", "swagger-ui.css"):
        assert f'"/api/v1/docs/assets/{asset}"' in html
        served = Api().client.get(f"/api/v1/docs/assets/{asset}")
        assert served.status_code == 200
        assert b"".join(served.streaming_content)
    assert Api().client.get("/api/v1/docs/assets/settings.py").status_code == 404
    assert Api().client.get("/api/v1/")["Location"] == "/api/v1/docs"
