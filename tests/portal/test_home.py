import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from ocsc.catalog.loader import load_catalog
from tests.conftest import MINI_CATALOG

pytestmark = pytest.mark.django_db


def test_anyone_sees_the_organizations_and_their_services(
    client: Client, mini_catalog: None
) -> None:
    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "TMA Mardan" in page and "TMA Takht Bhai" in page
    assert "New water supply connection" in page
    assert "20 working days" in page and "24 hours" in page
    assert "PKR 1,000" in page


def test_the_home_page_speaks_urdu_right_to_left(client: Client, mini_catalog: None) -> None:
    response = client.get("/", headers={"accept-language": "ur"})

    page = response.content.decode()
    assert 'lang="ur" dir="rtl"' in page
    assert "پانی کا نیا کنکشن" in page
    assert "ٹی ایم اے مردان" in page


def test_the_home_page_runs_the_same_queries_however_many_services(
    client: Client, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    load_catalog(MINI_CATALOG)
    # organizations, their services, districts, their tehsils (the area picker)
    with django_assert_num_queries(4):
        client.get("/")
