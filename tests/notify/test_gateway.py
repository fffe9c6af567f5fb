"""The HTTP SMS gateway, described by settings only; and one-off texts (sign-in codes) that
are not lost either."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from pytest_django.fixtures import Settings

from ocsc.notify.models import SmsMessage
from ocsc.notify.sms import GatewayError, HttpGateway, deliver_sms, queue_sms
from ocsc.notify.timers import resume_deliveries
from tests.notify.conftest import Run
from tests.notify.gateways import fake_aggregator

pytestmark = pytest.mark.django_db


def test_the_parameters_come_from_a_template_with_credentials(settings: Settings) -> None:
    with fake_aggregator() as aggregator:
        settings.SMS_HTTP_URL = aggregator.url
        settings.SMS_HTTP_PARAMS = (
            "msisdn={msisdn}&msg={text}&type={encoding}&user={username}&pass={password}"
            "&ref={reference}&sender=eTMA"
        )
        settings.SMS_HTTP_USERNAME, settings.SMS_HTTP_PASSWORD = "tma", "s3cret&="
        settings.SMS_HTTP_OK_MATCH = "ACCEPTED"

        answer = HttpGateway().send("+923001111111", "آپ کی درخواست", reference="r-1")

    assert answer == "ACCEPTED"
    assert aggregator.requests == [
        {
            "msisdn": "923001111111",
            "msg": "آپ کی درخواست",
            "type": "ucs2",
            "user": "tma",
            "pass": "s3cret&=",
            "ref": "r-1",
            "sender": "eTMA",
            "authorization": "",
        }
    ]


def test_refusals_and_silence_are_errors_worth_retrying(settings: Settings) -> None:
    with fake_aggregator() as aggregator:
        settings.SMS_HTTP_URL = aggregator.url
        settings.SMS_HTTP_OK_MATCH = "SENT OK"  # this aggregator answers 200 to errors too
        with pytest.raises(GatewayError, match="refused the message: ACCEPTED"):
            HttpGateway().send("+923001111111", "Hello")
        settings.SMS_HTTP_URL = aggregator.url.replace("/send", "/nowhere")
        settings.SMS_HTTP_METHOD = "GET"  # the fake answers GET with 501
        with pytest.raises(GatewayError, match="answered 501"):
            HttpGateway().send("+923001111111", "Hello")
    settings.SMS_HTTP_METHOD = "POST"
    with pytest.raises(GatewayError, match="could not be reached"):
        HttpGateway().send("+923001111111", "Hello")  # the aggregator has gone
    settings.SMS_HTTP_URL = "file:///etc/passwd"
    with pytest.raises(GatewayError, match="http"):
        HttpGateway().send("+923001111111", "Hello")


def test_a_one_off_text_whose_task_was_lost_is_sent_while_it_is_fresh(
    committed: Run, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with time_machine.travel("2026-12-07 09:00 +05:00", tick=False) as clock:
        settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
        lost = committed(queue_sms, "+923001111111", "OCSC sign-in code: 123456")
        forgotten = committed(queue_sms, "+923002222222", "OCSC sign-in code: 654321")
        settings.TASKS = {
            "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}
        }

        clock.shift(timedelta(minutes=4))
        committed(resume_deliveries, timezone.now())  # perhaps still on its way
        assert {m.status for m in SmsMessage.objects.all()} == {"queued"}
        clock.shift(timedelta(minutes=2))
        SmsMessage.objects.filter(pk=forgotten.pk).update(
            created_at=timezone.now() - timedelta(hours=1)
        )
        committed(resume_deliveries, timezone.now())
        committed(resume_deliveries, timezone.now())
        committed(deliver_sms.call, lost.pk)  # its first task, found late: sent already

    lost.refresh_from_db()
    forgotten.refresh_from_db()
    assert (lost.status, lost.attempts, forgotten.status) == ("sent", 1, "queued")
    assert capsys.readouterr().out.count("[SMS to +923001111111] OCSC sign-in code: 123456") == 1
