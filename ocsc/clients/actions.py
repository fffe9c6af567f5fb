"""Writes for third-party clients: issuing, using and revoking API keys, and filing a request
on a citizen's behalf."""

import hashlib
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ocsc.accounts.identity import normalize_phone
from ocsc.accounts.models import User
from ocsc.cases.actions import add_comment, submit_application
from ocsc.cases.formdata import InvalidInput, clean_form_data
from ocsc.cases.models import Application, Channel
from ocsc.catalog.models import Jurisdiction, Service
from ocsc.clients.models import ApiClient, ApiKey, FiledRequest, RateWindow

KEY_PREFIX = "ocsck_"
# Counters older than this are deleted when a key starts a new minute.
KEEP_WINDOWS = timedelta(minutes=10)


class KeyRefused(Exception):
    """No live key has this value: unknown, mistyped or revoked."""

    def __init__(self) -> None:
        super().__init__(_("The API key is unknown or revoked."))


class RateLimited(Exception):
    """The key has made its requests for this minute; `retry_after` is in seconds."""

    def __init__(self, key: ApiKey, retry_after: int) -> None:
        super().__init__(
            _("Too many requests: this key may make %(rate)d a minute. Retry in %(s)d s.")
            % {"rate": key.rate_per_minute, "s": retry_after}
        )
        self.retry_after = retry_after


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def client_named(name: str, *, contact: str = "") -> ApiClient:
    """The client with this name, registered now if it is new."""
    name = name.strip()
    if not name:
        raise InvalidInput({"name": _("give the client a name")})
    client, _created = ApiClient.objects.get_or_create(
        name=name[:100], defaults={"contact": contact}
    )
    return client


def issue_key(client: ApiClient, *, rate_per_minute: int) -> tuple[ApiKey, str]:
    """A new key for the client, and its value: shown this once, stored only as its hash."""
    if rate_per_minute < 1:
        raise InvalidInput({"rate_per_minute": _("at least 1 request a minute")})
    raw = f"{KEY_PREFIX}{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        client=client,
        key_hash=key_hash(raw),
        prefix=raw[len(KEY_PREFIX) : len(KEY_PREFIX) + 8],
        rate_per_minute=rate_per_minute,
    )
    return key, raw


def revoke_key(key: ApiKey) -> None:
    """Refuse the key from the next request on (every request looks the key up afresh)."""
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def use_key(raw: str) -> ApiKey:
    """The live key with this value, counted against its limit for the current minute.

    Raises KeyRefused or RateLimited. The counter is one row per key and minute, raised by a
    conditional UPDATE (`count < limit`) that commits at once, so concurrent requests on any
    number of app servers never pass the limit. The first request of a minute creates the
    row, notes the key as used and clears old rows."""
    key = (
        ApiKey.objects.select_related("client")
        .filter(key_hash=key_hash(raw.strip()), revoked_at__isnull=True)
        .first()
    )
    if key is None:
        raise KeyRefused()
    now = timezone.now()
    minute = now.replace(second=0, microsecond=0)
    window = RateWindow.objects.filter(key=key, minute=minute, count__lt=key.rate_per_minute)
    if window.update(count=F("count") + 1):
        return key
    RateWindow.objects.bulk_create(
        [RateWindow(key=key, minute=minute, count=0)], ignore_conflicts=True
    )
    if not window.update(count=F("count") + 1):
        raise RateLimited(key, retry_after=max(1, 60 - now.second))
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    RateWindow.objects.filter(key=key, minute__lt=minute - KEEP_WINDOWS).delete()
    key.last_used_at = now
    return key


def _citizen(number: str, *, name: str, email: str) -> User:
    """The account with this number, or a new citizen's. An existing account is not changed:
    a third party may not rename anyone."""
    found = User.objects.filter(phone=number).first()
    if found is None:
        try:
            with transaction.atomic():
                found = User.objects.create_user(number, name=name.strip()[:150], email=email)
        except IntegrityError:  # the same number, registered a moment ago
            found = User.objects.get(phone=number)
    if not found.is_active:
        raise InvalidInput({"phone": _("this account is disabled")})
    return found


def _requester(
    phone: str, email: str, service: Service, data: Mapping[str, Any]
) -> tuple[str, dict[str, str]]:
    """The phone number in E.164, and what is wrong with the requester and, when something
    is, with the form too: every problem is reported at once."""
    errors: dict[str, str] = {}
    number = ""
    try:
        number = normalize_phone(phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages[0]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = _("not an e-mail address")
    if errors:
        try:
            clean_form_data(service.fields, data)
        except InvalidInput as exc:
            errors.update({f"data.{key}": message for key, message in exc.errors.items()})
    return number, errors


@transaction.atomic
def file_request(
    *,
    key: ApiKey,
    service: Service,
    jurisdiction: Jurisdiction,
    phone: str,
    name: str = "",
    email: str = "",
    data: Mapping[str, Any],
    location: Mapping[str, Any] | None,
    comment: str = "",
) -> Application:
    """File an application for the citizen with this phone number (matched, or registered
    as a new citizen), on the `open311` channel; `comment` becomes the citizen's first
    comment (a description the service's form has no field for)."""
    number, errors = _requester(phone, email, service, data)
    if errors:
        raise InvalidInput(errors)
    citizen = _citizen(number, name=name, email=email)
    application = submit_application(
        citizen=citizen,
        service=service,
        jurisdiction=jurisdiction,
        data=data,
        location=location,
        channel=Channel.OPEN311,
    )
    if comment.strip():
        add_comment(application, actor=citizen, text=comment)
    FiledRequest.objects.create(application=application, key=key)
    return application
