"""Sending SMS: an outbox row first, then a gateway, from the background worker.

The gateway is chosen by the SMS_GATEWAY setting (a dotted path). The default,
`ConsoleGateway`, delivers nowhere: it prints the message on the console, which is what
the embedded profile and the demo need; the outbox row is the record either way.
"""

import logging
import sys
from functools import partial
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.module_loading import import_string

from ocsc.notify.models import SmsMessage

log = logging.getLogger(__name__)


class SmsGateway(Protocol):
    name: str

    def send(self, phone: str, text: str) -> str:
        """Hand the message over; return the gateway's reference. Raise on failure."""
        ...


class ConsoleGateway:
    name = "console"

    def send(self, phone: str, text: str) -> str:
        sys.stdout.write(f"[SMS to {phone}] {text}\n")
        sys.stdout.flush()
        return ""


def gateway() -> SmsGateway:
    gateway_class = import_string(settings.SMS_GATEWAY)
    instance: SmsGateway = gateway_class()
    return instance


def queue_sms(phone: str, text: str) -> SmsMessage:
    """Write the message to the outbox; it is delivered once the transaction commits."""
    message = SmsMessage.objects.create(phone=phone, text=text)
    transaction.on_commit(partial(deliver_sms.enqueue, message.pk))
    return message


@task()
def deliver_sms(message_id: int) -> None:
    message = SmsMessage.objects.get(pk=message_id)
    if message.status == SmsMessage.Status.SENT:
        return  # delivery is idempotent
    sender = gateway()
    message.attempts += 1
    try:
        message.gateway_reference = sender.send(message.phone, message.text)
    except Exception as exc:
        log.warning("SMS %s to %s failed: %s", message.pk, message.phone, exc)
        message.status, message.error = SmsMessage.Status.FAILED, str(exc)
    else:
        message.status, message.sent_at, message.error = SmsMessage.Status.SENT, timezone.now(), ""
    message.gateway = sender.name
    message.save(
        update_fields=["attempts", "gateway", "gateway_reference", "status", "sent_at", "error"]
    )
