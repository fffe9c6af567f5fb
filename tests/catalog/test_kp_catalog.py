"""The Khyber Pakhtunkhwa demo catalog: complete, bilingual, and idempotent to load."""

import pytest

from ocsc.catalog.loader import load_catalog
from ocsc.catalog.models import Jurisdiction, Organization, Role, Service
from tests.catalog.test_loader import snapshot
from tests.conftest import KP_CATALOG

pytestmark = pytest.mark.django_db


def test_the_demo_catalog_loads_and_a_second_load_changes_nothing() -> None:
    load_catalog(KP_CATALOG)
    before = snapshot()

    summary = load_catalog(KP_CATALOG)

    assert summary.changed() == 0, summary
    assert snapshot() == before


def test_the_demo_catalog_covers_kp_tmas_wsscs_and_both_categories() -> None:
    load_catalog(KP_CATALOG)

    tmas = Organization.objects.filter(kind__code="tma")
    districts = {
        Jurisdiction.objects.get(pk=j).parent.code  # type: ignore[union-attr]
        for j in tmas.values_list("serves", flat=True)
    }
    assert tmas.count() >= 6 and len(districts) >= 3
    assert Organization.objects.filter(kind__code="wssc").count() >= 3
    codes = set(Service.objects.values_list("code", flat=True))
    assert len(codes) >= 10
    assert {"application", "complaint"} <= set(Service.objects.values_list("category", flat=True))
    for wanted in (
        "water-connection",
        "wssc-sewerage-connection",
        "building-plan-residential",
        "birth-certificate",
        "garbage-not-collected",
        "street-cleaning",
        "blocked-drain",
        "street-light-repair",
        "water-line-leakage",
    ):
        assert wanted in codes, wanted


def test_every_service_organization_and_role_has_an_urdu_name() -> None:
    load_catalog(KP_CATALOG)

    for model in (Organization, Service, Role):
        missing = [str(row) for row in model._default_manager.all() if not row.name.get("ur")]
        assert missing == [], f"{model.__name__} without Urdu: {missing}"
