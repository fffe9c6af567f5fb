"""Texts received: `POST /sms/inbound` from the gateway, answered by SMS through the gateway."""

from collections.abc import Iterator

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from ocsc.cases.actions import take_action
from ocsc.cases.models import Application
from ocsc.notify.models import InboundSms, SmsMessage
from tests.notify.conftest import Run
from tests.notify.gateways import FakeAggregator, fake_aggregator
from tests.personas import People, water_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
SECRET = "gateway-shared-secret"


@pytest.fixture
def aggregator(settings: Settings) -> Iterator[FakeAggregator]:
    """Replies leave through the HTTP gateway to a fake aggregator on loopback."""
    with fake_aggregator() as fake:
        settings.SMS_GATEWAY = "ocsc.notify.sms.HttpGateway"
        settings.SMS_HTTP_URL = fake.url
        settings.SMS_INBOUND_SECRET = SECRET
        yield fake


@pytest.fixture
def application(people: People, committed: Run) -> Application:
    application = committed(water_connection, people)
    committed(
        take_action,
        Application.objects.get(pk=application.pk),
        actor=people.kamran,
        action="forward",
    )
    return application


def text_in(committed: Run, sender: str, text: str, secret: str = SECRET) -> tuple[int, str]:
    """The gateway forwards a text; returns the response status and the reply it was given."""
    response = committed(
        Client().post,
        "/sms/inbound",
        {"from": sender, "text": text},
        headers={"X-Gateway-Secret": secret},
    )
    reply = SmsMessage.objects.order_by("-pk").first()
    return response.status_code, reply.text if reply is not None else ""


def test_the_applicant_texts_status_and_gets_where_the_application_is(
    application: Application, aggregator: FakeAggregator, committed: Run
) -> None:
    status, reply = text_in(committed, "923001111111", "status  mdn-26-000001")

    assert status == 200
    assert reply == (
        "MDN-26-000001: کارروائی جاری ہے۔ مرحلہ: Site inspection۔ آخری تاریخ 10-12-2026"
    )
    [sent] = [r for r in aggregator.requests if r["to"] == "923001111111"]
    assert (sent["text"], sent["unicode"]) == (reply, "1")
    message = SmsMessage.objects.get(text=reply)
    assert (message.phone, message.status, message.gateway) == ("+923001111111", "sent", "http")
    assert InboundSms.objects.get().text == "status  mdn-26-000001"

    _, latest = text_in(committed, "+923001111111", "STATUS")  # no number: the latest one
    assert latest == reply


def test_someone_else_gets_no_details_the_same_as_for_a_number_that_does_not_exist(
    application: Application, aggregator: FakeAggregator, committed: Run
) -> None:
    _, to_bilal = text_in(committed, "03002222222", "STATUS MDN-26-000001")
    _, to_bilal_again = text_in(committed, "03002222222", "STATUS MDN-26-999999")

    assert to_bilal == (
        "No application MDN-26-000001 for this number. "
        "Send STATUS and your tracking number, e.g. STATUS MDN-26-000123."
    )
    assert to_bilal_again == to_bilal.replace("000001", "999999")
    assert [r["to"] for r in aggregator.requests] == ["923002222222", "923002222222"]


def test_help_and_anything_else_explain(
    application: Application, aggregator: FakeAggregator, committed: Run
) -> None:
    _, help_en = text_in(committed, "03451234567", "HELP")
    _, help_ur = text_in(committed, "03001111111", "what?")

    assert help_en.startswith("e-TMA: send STATUS and your tracking number")
    assert help_ur == "درخواست کی صورتحال کے لیے STATUS اور ٹریکنگ نمبر بھیجیں"


def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_sent(
    application: Application, aggregator: FakeAggregator, committed: Run, settings: Settings
) -> None:
    assert text_in(committed, "03001111111", "STATUS MDN-26-000001", "guess")[0] == 403
    assert text_in(committed, "03001111111", "STATUS MDN-26-000001", "")[0] == 403
    settings.SMS_INBOUND_SECRET = ""  # not configured: nobody gets in
    assert text_in(committed, "03001111111", "STATUS MDN-26-000001", "")[0] == 403
    settings.SMS_INBOUND_SECRET = SECRET
    assert text_in(committed, "not a number", "STATUS MDN-26-000001")[0] == 400
    assert Client().get("/sms/inbound", headers={"X-Gateway-Secret": SECRET}).status_code == 405

    assert not SmsMessage.objects.exists()
    assert aggregator.requests == []
