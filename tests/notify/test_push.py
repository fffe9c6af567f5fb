"""Web push: the subscription made from the profile page, and notifications pushed to it
through a push service (a fake one on loopback that decrypts what it receives, as the
phone would)."""

import base64
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command
from django.test import Client
from pytest_django.fixtures import Settings

from ocsc.notify.actions import set_channels, subscribe_push
from ocsc.notify.models import Notification, PushSubscription
from tests.notify.conftest import Run, told
from tests.personas import People, water_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Phone:
    """A browser's push keys, and what its push service received for it."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))
    received: list[dict[str, str]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    answer: int = 201

    @property
    def p256dh(self) -> str:
        return b64(
            self.key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )


@pytest.fixture
def push_service(settings: Settings) -> Iterator[tuple[str, Phone]]:
    phone = Phone()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            phone.headers.append({k.lower(): v for k, v in self.headers.items()})
            if phone.answer < 300:
                plain = http_ece.decrypt(body, private_key=phone.key, auth_secret=phone.auth)
                phone.received.append(json.loads(plain))
            self.send_response(phone.answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_port}"
    out = StringIO()
    call_command("vapid_keys", stdout=out)
    keys = dict(line.split("=", 1) for line in out.getvalue().split())
    settings.VAPID_PUBLIC_KEY = keys["VAPID_PUBLIC_KEY"]
    settings.VAPID_PRIVATE_KEY = keys["VAPID_PRIVATE_KEY"]
    settings.VAPID_SUBJECT = "mailto:ops@ocsc.example.org"
    settings.PUSH_SERVICE_HOSTS = ["fcm.googleapis.com", origin]
    yield origin, phone
    server.shutdown()
    server.server_close()


def test_a_subscribed_phone_gets_the_notification_in_the_applicant_s_language(
    people: People, committed: Run, push_service: tuple[str, Phone], settings: Settings
) -> None:
    origin, phone = push_service
    subscribe_push(
        people.ayesha, endpoint=f"{origin}/push/abc", p256dh=phone.p256dh, auth=b64(phone.auth)
    )
    set_channels(people.ayesha, {"receipt": ["push"]})

    committed(water_connection, people)

    assert told(recipient=people.ayesha) == {
        ("Ayesha", "in_app", "submitted"),
        ("Ayesha", "push", "submitted"),
    }
    assert phone.received == [
        {
            "title": "درخواست موصول ہو گئی",
            "body": "آپ کی درخواست (پانی کا نیا کنکشن) موصول ہو گئی ہے۔ ٹریکنگ نمبر: "
            "MDN-26-000001۔ اس نمبر سے آپ اپنی درخواست کی صورتحال جان سکتے ہیں۔",
            "url": "https://ocsc.example.org/applications/MDN-26-000001/",
            "tag": Notification.objects.get(channel="push").key,
        }
    ]
    vapid = phone.headers[0]["authorization"]
    assert vapid.startswith("vapid t=") and vapid.endswith(f",k={settings.VAPID_PUBLIC_KEY}")
    assert (phone.headers[0]["content-encoding"], phone.headers[0]["ttl"]) == ("aes128gcm", "86400")
    push = Notification.objects.get(channel="push")
    assert (push.status, push.reference) == ("sent", "push: 1 device(s)")


def test_a_subscription_the_service_says_is_gone_is_dropped(
    people: People, committed: Run, push_service: tuple[str, Phone]
) -> None:
    origin, phone = push_service
    phone.answer = 410
    subscribe_push(
        people.ayesha, endpoint=f"{origin}/push/old", p256dh=phone.p256dh, auth=b64(phone.auth)
    )
    set_channels(people.ayesha, {"receipt": ["push"]})

    committed(water_connection, people)

    push = Notification.objects.get(channel="push")
    assert (push.status, push.attempts) == ("failed", 1)
    assert push.error.startswith("no push subscription")
    assert not PushSubscription.objects.exists()


def test_the_profile_page_subscribes_and_unsubscribes_the_phone(
    people: People, push_service: tuple[str, Phone]
) -> None:
    client = Client()
    client.force_login(people.ayesha)
    subscription = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc123",
        "keys": {"p256dh": "BPx3", "auth": "q1w2"},
    }

    response = client.post("/push/subscription", subscription, content_type="application/json")
    assert response.status_code == 204
    row = PushSubscription.objects.get()
    assert (row.user, row.endpoint, row.p256dh, row.auth) == (
        people.ayesha,
        "https://fcm.googleapis.com/fcm/send/abc123",
        "BPx3",
        "q1w2",
    )

    elsewhere = {**subscription, "endpoint": "https://10.0.0.5/admin"}
    response = client.post("/push/subscription", elsewhere, content_type="application/json")
    assert response.status_code == 400  # the worker would post there: known services only
    response = client.post("/push/subscription", "{", content_type="application/json")
    assert response.status_code == 400
    response = Client().post("/push/subscription", subscription, content_type="application/json")
    assert response.status_code == 302  # to sign in

    gone = {"endpoint": subscription["endpoint"], "unsubscribe": True}
    response = client.post("/push/subscription", gone, content_type="application/json")
    assert response.status_code == 204
    assert not PushSubscription.objects.exists()
