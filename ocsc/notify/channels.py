"""Handing one notification over to its channel: SMS gateway, mailer, web push.

`send` returns the channel's reference or raises: `Undeliverable` when trying again cannot
help (no address, no subscription left), any other exception when it might.
"""

import json
import logging

from django.conf import settings
from django.core.mail import send_mail

from ocsc.notify.models import Channel, Notification, PushSubscription
from ocsc.notify.queries import push_enabled
from ocsc.notify.sms import gateway

log = logging.getLogger(__name__)


class Undeliverable(Exception):
    """Trying again cannot help: the notification fails at once."""


def send(notification: Notification) -> str:
    if notification.channel == Channel.SMS:
        if not notification.address:
            raise Undeliverable("no phone number")
        sender = gateway()
        reference = sender.send(
            notification.address, notification.body, reference=str(notification.uuid)
        )
        return f"{sender.name}: {reference}"[:200] if reference else sender.name
    if notification.channel == Channel.EMAIL:
        if not notification.address:
            raise Undeliverable("no e-mail address")
        send_mail(notification.title, notification.body, None, [notification.address])
        return "mail"
    if notification.channel == Channel.PUSH:
        return send_push(notification)
    return ""  # in-app: the row is the delivery


class PushFailed(Exception):
    pass


def send_push(notification: Notification) -> str:
    """Push to each of the recipient's subscriptions not yet reached by this notification
    (remembered in `data["pushed"]`, so a retry reaches only the rest). A subscription the
    push service says is gone (404, 410) is deleted."""
    from pywebpush import WebPushException, webpush

    if not push_enabled():
        raise Undeliverable("web push is not configured (VAPID keys)")
    pushed: list[str] = list(notification.data.get("pushed", []))
    subscriptions = PushSubscription.objects.filter(user_id=notification.recipient_id).exclude(
        endpoint__in=pushed
    )
    payload = json.dumps(
        {
            "title": notification.title,
            "body": notification.body,
            "url": notification.link or "/",
            "tag": notification.key,
        }
    )
    errors: list[str] = []
    for subscription in subscriptions:
        try:
            webpush(
                subscription_info={
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                data=payload,
                vapid_private_key=settings.VAPID_PRIVATE_KEY,
                vapid_claims={"sub": settings.VAPID_SUBJECT},
                timeout=settings.PUSH_TIMEOUT,
                ttl=settings.PUSH_TTL_SECONDS,
            )
        except WebPushException as exc:
            status = getattr(exc.response, "status_code", None)
            if status in (404, 410):
                subscription.delete()
                continue
            errors.append(f"{status or 'no answer'}: {str(exc).splitlines()[0]}")
        except Exception as exc:  # the push service could not be reached
            errors.append(str(exc) or exc.__class__.__name__)
        else:
            pushed.append(subscription.endpoint)
    if pushed != notification.data.get("pushed", []):
        notification.data = {**notification.data, "pushed": pushed}
        Notification.objects.filter(pk=notification.pk).update(data=notification.data)
    if errors:
        raise PushFailed("; ".join(errors))
    if not pushed:
        raise Undeliverable("no push subscription (turned on from the profile page)")
    return f"push: {len(pushed)} device(s)"
