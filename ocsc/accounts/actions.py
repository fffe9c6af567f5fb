"""Writes of accounts: sign-in codes, API tokens, officials and postings."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from ocsc.accounts import totp
from ocsc.accounts.access import keep_scopes, scope_params, with_scopes
from ocsc.accounts.identity import normalize_phone
from ocsc.accounts.models import (
    ApiToken,
    OneTimeCode,
    PasswordFailure,
    Posting,
    TotpDevice,
    User,
)
from ocsc.catalog.models import Jurisdiction, Organization, Role
from ocsc.compiled import Compiled, update
from ocsc.notify.sms import queue_sms

CODE_WINDOW = timedelta(minutes=15)
IP_WINDOW = timedelta(hours=1)


class SignInRefused(Exception):
    """A sign-in step was refused; `code` says why, the message says it to a person."""

    def __init__(self, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


def _hash_code(phone: str, code: str) -> str:
    return salted_hmac("ocsc.otp", f"{phone}:{code}", algorithm="sha256").hexdigest()


@transaction.atomic
def request_code(phone: str, *, client_ip: str | None) -> OneTimeCode:
    """Send a six-digit sign-in code by SMS, within the per-phone and per-address limits."""
    phone = normalize_phone(phone)
    now = timezone.now()
    recent = OneTimeCode.objects.filter(phone=phone, created_at__gt=now - CODE_WINDOW)
    if recent.count() >= settings.OTP_MAX_PER_PHONE:
        oldest = recent.order_by("created_at").first()
        wait = int((oldest.created_at + CODE_WINDOW - now).total_seconds()) + 1 if oldest else 60
        raise SignInRefused(
            "too_many_codes",
            _("Too many codes for this number: try again in %(minutes)d minutes.")
            % {"minutes": wait // 60 + 1},
            retry_after=wait,
        )
    if client_ip is not None:
        from_ip = OneTimeCode.objects.filter(client_ip=client_ip, created_at__gt=now - IP_WINDOW)
        if from_ip.count() >= settings.OTP_MAX_PER_ADDRESS:
            raise SignInRefused(
                "too_many_codes",
                _("Too many codes requested from this network: try again later."),
                retry_after=int(IP_WINDOW.total_seconds()),
            )
    code = f"{secrets.randbelow(1_000_000):06d}"
    otp = OneTimeCode.objects.create(
        phone=phone,
        code_hash=_hash_code(phone, code),
        client_ip=client_ip,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
    )
    minutes = settings.OTP_TTL_SECONDS // 60
    queue_sms(phone, f"OCSC sign-in code: {code}. Valid {minutes} minutes. Do not share it.")
    return otp


def verify_code(phone: str, code: str) -> User:
    """The user the code signs in (a new citizen on first sign-in), or SignInRefused.

    A wrong try is counted in its own committed transaction before the refusal is raised."""
    phone = normalize_phone(phone)
    now = timezone.now()
    with transaction.atomic():
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if otp is None:
            raise SignInRefused(
                "code_expired", _("No valid code for this number: ask for a new one.")
            )
        if otp.attempts >= settings.OTP_MAX_ATTEMPTS:
            raise SignInRefused("too_many_tries", _("Too many wrong codes: ask for a new one."))
        if constant_time_compare(otp.code_hash, _hash_code(phone, code.strip())):
            otp.used_at = now
            otp.save(update_fields=["used_at"])
            user = User.objects.filter(phone=phone).first() or User.objects.create_user(phone)
            if not user.is_active:
                raise SignInRefused("inactive", _("This account is disabled."))
            return user
        otp.attempts += 1
        otp.save(update_fields=["attempts"])
    left = settings.OTP_MAX_ATTEMPTS - otp.attempts
    raise SignInRefused("wrong_code", _("Wrong code: %(left)d tries left.") % {"left": left})


def password_sign_in(phone: str, password: str, *, client_ip: str | None) -> User:
    """An official's sign-in by password, refused after PASSWORD_MAX_FAILURES wrong tries
    for the number within 15 minutes."""
    phone = normalize_phone(phone)
    since = timezone.now() - CODE_WINDOW
    if PasswordFailure.objects.filter(phone=phone, created_at__gt=since).count() >= (
        settings.PASSWORD_MAX_FAILURES
    ):
        raise SignInRefused(
            "too_many_tries",
            _("Too many wrong passwords: try again in 15 minutes."),
            retry_after=int(CODE_WINDOW.total_seconds()),
        )
    user = authenticate(None, phone=phone, password=password)
    if not isinstance(user, User):
        PasswordFailure.objects.create(phone=phone, client_ip=client_ip)
        raise SignInRefused("wrong_password", _("Wrong phone number or password."))
    return user


def needs_second_factor(user: User) -> bool:
    """Whether signing in takes an authenticator code: always once one is confirmed."""
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def must_set_up_second_factor(user: User) -> bool:
    """Heads and administrators without an authenticator, when REQUIRE_2FA_FOR_HEADS is on."""
    if not settings.REQUIRE_2FA_FOR_HEADS or needs_second_factor(user):
        return False
    from ocsc.accounts.access import active_postings

    return user.is_superuser or active_postings(user).filter(role__head=True).exists()


@transaction.atomic
def check_second_factor(user: User, code: str) -> None:
    """Accept a current authenticator code once; SignInRefused otherwise."""
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    counter = (
        totp.matching_counter(device.secret, code, timezone.now()) if device is not None else None
    )
    if device is None or counter is None or counter <= device.last_counter:
        raise SignInRefused("wrong_code", _("Wrong authenticator code."))
    device.last_counter = counter
    if device.confirmed_at is None:
        device.confirmed_at = timezone.now()
    device.save(update_fields=["last_counter", "confirmed_at"])


def start_second_factor(user: User) -> TotpDevice:
    """A new, unconfirmed authenticator secret (replacing an unconfirmed one)."""
    device, _created = TotpDevice.objects.get_or_create(
        user=user, defaults={"secret": totp.new_secret()}
    )
    if device.confirmed_at is None and not _created:
        device.secret = totp.new_secret()
        device.save(update_fields=["secret"])
    return device


def _token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_token(user: User, *, name: str = "mobile app") -> tuple[ApiToken, str]:
    """A new API token and its key, which is shown this once and stored only hashed."""
    key = f"ocsc_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        key_hash=_token_hash(key),
        prefix=key[5:13],
        expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_DAYS),
    )
    return token, key


def _bearer(key_hash: str, now: datetime) -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("user").filter(
        key_hash=key_hash, revoked_at__isnull=True, expires_at__gt=now, user__is_active=True
    )[:1]


# Every API call asks, so the read is compiled once (ocsc.compiled): building it with the ORM
# took 0.7 ms of CPU, and a raw query's model machinery a third of that.
_BEARER = Compiled(_bearer)
_WITH_SCOPES = with_scopes("user_id")
TOKEN_USE_NOTED = timedelta(minutes=5)  # how often a token's last use is written


def token_user(key: str) -> tuple[ApiToken, User] | None:
    """The live token and its active user for a bearer key, or None; notes when the token
    was last used (at most every TOKEN_USE_NOTED)."""
    now = timezone.now()
    # With the user's postings, which nearly every call asks for next (who may see, act).
    token, postings = _BEARER.first_around(
        _WITH_SCOPES, scope_params(), key_hash=_token_hash(key), now=now
    )
    if token is None:
        return None
    keep_scopes(token.user, postings)
    if token.last_used_at is None or token.last_used_at < now - TOKEN_USE_NOTED:
        token.last_used_at = now
        update(ApiToken, {"pk": token.pk}, last_used_at=now)
    return token, token.user


def revoke_token(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


@dataclass(frozen=True)
class PostingInput:
    organization: str
    role: str
    jurisdiction: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None


@transaction.atomic
def post_official(user: User, posting: PostingInput) -> Posting:
    """Give `user` a role in an organization, with clear errors for unknown codes."""
    org = Organization.objects.select_related("kind").filter(code=posting.organization).first()
    if org is None:
        raise ValueError(f"unknown organization '{posting.organization}'")
    role = Role.objects.filter(kind=org.kind, code=posting.role).first()
    if role is None:
        codes = ", ".join(Role.objects.filter(kind=org.kind).values_list("code", flat=True))
        raise ValueError(f"'{posting.role}' is not a role of {org.code}; its roles: {codes}")
    area = None
    if posting.jurisdiction:
        area = Jurisdiction.objects.filter(code=posting.jurisdiction).first()
        if area is None:
            raise ValueError(f"unknown jurisdiction '{posting.jurisdiction}'")
    if posting.ends_on and posting.starts_on and posting.ends_on < posting.starts_on:
        raise ValueError("the posting ends before it starts")
    return Posting.objects.create(
        user=user,
        organization=org,
        role=role,
        jurisdiction=area,
        starts_on=posting.starts_on or timezone.localdate(),
        ends_on=posting.ends_on,
    )
