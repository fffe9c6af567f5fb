"""Sending SMS: gateways, counting segments as gateways count them, and the outbox for
one-off texts (sign-in codes, replies to texts received).

The gateway is chosen by the SMS_GATEWAY setting (a dotted path):

- `ConsoleGateway` (the default) delivers nowhere: it prints the message on the console,
  which is what the embedded profile and the demo need;
- `HttpGateway` calls a local SMS aggregator's HTTP API, described entirely by settings
  (SMS_HTTP_URL, SMS_HTTP_METHOD, SMS_HTTP_PARAMS, credentials), so no code is needed for a
  new aggregator.

Every message carries a `reference` (a UUID). A gateway that deduplicates by a client
reference delivers a message handed over twice only once: that is what makes re-sending a
message whose outcome is unknown (its worker died mid-send) safe.
"""

import json
import logging
import math
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import partial
from typing import Literal, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone
from django.utils.module_loading import import_string

from ocsc.notify.models import SmsMessage

log = logging.getLogger(__name__)

# GSM 03.38: the basic character set (one septet each) and the extension table (two each:
# the escape and the character). Anything else makes the whole message UCS-2.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


@dataclass(frozen=True)
class SmsSize:
    encoding: Literal["gsm7", "ucs2"]
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int

    @property
    def unicode(self) -> bool:
        return self.encoding == "ucs2"


def sms_size(text: str) -> SmsSize:
    """How a gateway counts `text`: GSM-7 fits 160 septets in one message and 153 per part
    of a longer one; UCS-2 (Urdu, Pashto, or any character outside GSM-7) 70 and 67."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        single, part, encoding = 160, 153, "gsm7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "ucs2"
    segments = 1 if units <= single else math.ceil(units / part)
    return SmsSize(encoding, units, segments)  # type: ignore[arg-type]


class GatewayError(Exception):
    """The gateway refused the message or could not be reached; worth trying again."""


class SmsGateway(Protocol):
    name: str

    def send(self, phone: str, text: str, *, reference: str = "") -> str:
        """Hand the message over; return the gateway's reference. Raise on failure."""
        ...


class ConsoleGateway:
    name = "console"

    def send(self, phone: str, text: str, *, reference: str = "") -> str:
        sys.stdout.write(f"[SMS to {phone}] {text}\n")
        sys.stdout.flush()
        return ""


class HttpGateway:
    """An aggregator's HTTP API. SMS_HTTP_PARAMS is a query string whose values are
    templates: ``to={msisdn}&text={text}&user={username}&pass={password}&ref={reference}``.
    The placeholders are {phone} (+923001234567), {msisdn} (923001234567), {text},
    {reference}, {unicode} (1 or 0), {encoding} (gsm7 or ucs2), {username}, {password}
    and {token}. GET sends them in the query string, POST as a form (or as JSON with
    SMS_HTTP_JSON). A 2xx answer whose body matches SMS_HTTP_OK_MATCH (when set) is a
    success."""

    name = "http"

    def send(self, phone: str, text: str, *, reference: str = "") -> str:
        size = sms_size(text)
        values = {
            "phone": phone,
            "msisdn": phone.lstrip("+"),
            "text": text,
            "reference": reference,
            "unicode": "1" if size.unicode else "0",
            "encoding": size.encoding,
            "username": settings.SMS_HTTP_USERNAME,
            "password": settings.SMS_HTTP_PASSWORD,
            "token": settings.SMS_HTTP_TOKEN,
        }
        params = [
            (name, template.format_map(values))
            for name, template in urllib.parse.parse_qsl(
                settings.SMS_HTTP_PARAMS, keep_blank_values=True
            )
        ]
        url, method = settings.SMS_HTTP_URL, settings.SMS_HTTP_METHOD.upper()
        if not url.startswith(("http://", "https://")):
            raise GatewayError(f"SMS_HTTP_URL must be an http(s) address, not {url!r}")
        headers = {"User-Agent": "OCSC"}
        if settings.SMS_HTTP_TOKEN:
            headers["Authorization"] = f"Bearer {settings.SMS_HTTP_TOKEN}"
        body: bytes | None = None
        if method == "GET":
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        elif settings.SMS_HTTP_JSON:
            body = json.dumps(dict(params)).encode()
            headers["Content-Type"] = "application/json"
        else:
            body = urllib.parse.urlencode(params).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 - the scheme is checked above
        try:
            with urllib.request.urlopen(request, timeout=settings.SMS_HTTP_TIMEOUT) as response:  # noqa: S310
                answer = str(response.read(2000).decode("utf-8", "replace"))
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"the gateway answered {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise GatewayError(f"the gateway could not be reached: {exc}") from exc
        if settings.SMS_HTTP_OK_MATCH and settings.SMS_HTTP_OK_MATCH not in answer:
            raise GatewayError(f"the gateway refused the message: {answer[:200]}")
        return answer.strip()[:200]


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
    """Send one outbox message. Claimed by a conditional update, so that of two workers
    given the same message one sends it; a sent message is never sent again."""
    claimed = SmsMessage.objects.filter(pk=message_id, status=SmsMessage.Status.QUEUED).update(
        status=SmsMessage.Status.SENDING, attempts=F("attempts") + 1, claimed_at=timezone.now()
    )
    if claimed != 1:
        return
    message = SmsMessage.objects.get(pk=message_id)
    sender = gateway()
    try:
        message.gateway_reference = sender.send(
            message.phone, message.text, reference=f"sms-{message.pk}"
        )[:100]
    except Exception as exc:
        log.warning("SMS %s to %s failed: %s", message.pk, message.phone, exc)
        message.status, message.error = SmsMessage.Status.FAILED, str(exc)
    else:
        message.status, message.sent_at, message.error = SmsMessage.Status.SENT, timezone.now(), ""
    message.gateway = sender.name
    message.save(update_fields=["gateway", "gateway_reference", "status", "sent_at", "error"])
