"""HTTP adapters: texts received from the SMS gateway, and push subscriptions."""

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ocsc.accounts.identity import normalize_phone
from ocsc.accounts.models import User
from ocsc.notify import actions


@csrf_exempt
@require_POST
def sms_inbound(request: HttpRequest) -> HttpResponse:
    """A text from the gateway: form fields `from` and `text`, the shared secret in the
    `X-Gateway-Secret` header. The reply is queued as an SMS; the response says only that."""
    secret = settings.SMS_INBOUND_SECRET
    given = request.headers.get("X-Gateway-Secret", "")
    if not secret or not constant_time_compare(given, secret):
        return JsonResponse({"detail": "Wrong or missing gateway secret."}, status=403)
    try:
        phone = normalize_phone(request.POST.get("from", ""))
    except ValidationError:
        return JsonResponse({"detail": "`from` is not a mobile number."}, status=400)
    actions.receive_sms(phone, request.POST.get("text", "")[:500])
    return JsonResponse({"status": "queued"})


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required ran first
    return user


@login_required
@require_POST
def push_subscription(request: HttpRequest) -> HttpResponse:
    """Keep (or, with `"unsubscribe": true`, drop) the browser's push subscription: the JSON
    of `PushSubscription.toJSON()` sent by the profile page."""
    try:
        body: dict[str, Any] = json.loads(request.body or b"{}")
        endpoint = str(body["endpoint"])
        keys = body.get("keys") or {}
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"detail": "Send the subscription as JSON."}, status=400)
    if body.get("unsubscribe"):
        actions.unsubscribe_push(_user(request), endpoint=endpoint)
        return HttpResponse(status=204)
    if not isinstance(keys, dict) or not keys.get("p256dh") or not keys.get("auth"):
        return JsonResponse({"detail": "The subscription lacks its keys."}, status=400)
    try:
        actions.subscribe_push(
            _user(request),
            endpoint=endpoint,
            p256dh=str(keys["p256dh"]),
            auth=str(keys["auth"]),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except ValueError as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    return HttpResponse(status=204)
