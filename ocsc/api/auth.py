"""Who is calling: a bearer token (apps) or the Django session (the portal, CSRF-checked).

Also the sign-in endpoints: `/auth/otp`, `/auth/token`, `/auth/tokens`, and `/me`.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, APIKeyHeader, HttpBearer
from ninja.utils import check_csrf

from ocsc.accounts.access import active_postings
from ocsc.accounts.actions import (
    check_second_factor,
    issue_token,
    needs_second_factor,
    password_sign_in,
    request_code,
    revoke_token,
    token_user,
    verify_code,
)
from ocsc.accounts.http import client_ip
from ocsc.accounts.identity import normalize_phone
from ocsc.accounts.models import ApiToken, User
from ocsc.api.schemas import (
    DetailOut,
    ErrorOut,
    MeOut,
    OtpIn,
    TokenIn,
    TokenInfoOut,
    TokenOut,
    UserOut,
)
from ocsc.cases.formdata import InvalidInput
from ocsc.clients.actions import use_key
from ocsc.clients.models import ApiKey


class BearerToken(HttpBearer):
    """`Authorization: Bearer <key>`: an API token that is neither revoked nor expired."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = token_user(token.strip())
        if found is None:
            return None
        api_token, user = found
        request.api_token = api_token  # type: ignore[attr-defined]
        return user


class ClientKey(APIKeyHeader):
    """`X-API-Key: <key>`, optional: a third-party client's key (docs/open311.md). Without
    it the endpoint is open to all; with it, the request counts against the key's limit
    (429 past it) and marks the key used, and an unknown or revoked key is refused (401)."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | bool:
        if not key:
            return True  # anonymous: the public catalog needs no key
        found = use_key(key)
        request.api_key = found  # type: ignore[attr-defined]
        return found


class CsrfFailed(HttpError):
    def __init__(self) -> None:
        super().__init__(
            403, _("CSRF check failed: send the csrftoken cookie's value as X-CSRFToken.")
        )


class Session(APIKeyCookie):
    """The portal's signed-in session. Unsafe methods must carry the CSRF token, as for any
    Django form; an anonymous session is simply not signed in (401), not a CSRF failure."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> User | None:
        user = getattr(request, "user", None)
        if not isinstance(user, User) or not user.is_active:
            return None
        if self.csrf and check_csrf(request) is not None:
            raise CsrfFailed()
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        return None  # pragma: no cover - __call__ decides


signed_in = [BearerToken(), Session()]


def caller(request: HttpRequest) -> User:
    """The signed-in user of an authenticated endpoint."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise AuthenticationError()
    return user


def user_out(user: User) -> UserOut:
    return UserOut(
        phone=user.phone,
        name=user.name,
        cnic=user.cnic,
        language=user.language,
        is_monitor=user.is_monitor,
    )


router = Router(tags=["accounts"])


def _phone(raw: str, field: str = "phone") -> str:
    try:
        return normalize_phone(raw)
    except ValidationError as exc:
        raise InvalidInput({field: exc.messages[0]}) from None


@router.post(
    "/auth/otp",
    auth=None,
    response={202: DetailOut, 422: ErrorOut, 429: ErrorOut},
    summary="Send a sign-in code by SMS",
)
def send_code(request: HttpRequest, payload: OtpIn) -> Status[DetailOut]:
    phone = _phone(payload.phone)
    request_code(phone, client_ip=client_ip(request))
    return Status(
        202, DetailOut(detail=_("A sign-in code was sent by SMS to %(phone)s.") % {"phone": phone})
    )


@router.post(
    "/auth/token",
    auth=None,
    response={200: TokenOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Get an API token with an SMS code (citizens) or a password (officials)",
)
def sign_in(request: HttpRequest, payload: TokenIn) -> TokenOut:
    phone = _phone(payload.phone)
    if payload.otp is None and payload.password is None:
        raise InvalidInput({"otp": _("send otp (the SMS code) or, for officials, password")})
    if payload.otp is not None and payload.password is not None:
        raise InvalidInput({"otp": _("send either otp (the SMS code) or password, not both")})
    if payload.otp is not None:
        user = verify_code(phone, payload.otp)
    else:
        user = password_sign_in(phone, payload.password or "", client_ip=client_ip(request))
        if needs_second_factor(user):
            if not payload.totp:
                raise InvalidInput({"totp": _("this account also needs its authenticator code")})
            check_second_factor(user, payload.totp)
    token, key = issue_token(user, name=payload.name)
    return TokenOut(
        token=key, prefix=token.prefix, expires_at=token.expires_at, user=user_out(user)
    )


@router.delete(
    "/auth/token",
    auth=BearerToken(),
    response={204: None, 401: ErrorOut},
    summary="Revoke the token this request carries (sign out)",
)
def sign_out(request: HttpRequest) -> Status[None]:
    token: ApiToken = request.api_token  # type: ignore[attr-defined]
    revoke_token(token)
    return Status(204, None)


@router.get(
    "/auth/tokens",
    auth=signed_in,
    response={200: list[TokenInfoOut], 401: ErrorOut},
    summary="The caller's API tokens, newest first",
)
def list_tokens(request: HttpRequest) -> list[TokenInfoOut]:
    current = getattr(request, "api_token", None)
    return [
        TokenInfoOut(
            prefix=token.prefix,
            name=token.name,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
            current=current is not None and token.pk == current.pk,
        )
        for token in ApiToken.objects.filter(user=caller(request)).order_by("-created_at", "-pk")
    ]


@router.delete(
    "/auth/tokens/{prefix}",
    auth=signed_in,
    response={204: None, 401: ErrorOut, 404: ErrorOut},
    summary="Revoke one of the caller's tokens, named by its prefix",
)
def revoke_one(request: HttpRequest, prefix: str) -> Status[None]:
    tokens = ApiToken.objects.filter(user=caller(request), prefix=prefix, revoked_at__isnull=True)
    found = list(tokens)
    if not found:
        raise HttpError(404, _("You have no live token with this prefix."))
    for token in found:
        revoke_token(token)
    return Status(204, None)


@router.get("/me", auth=signed_in, response={200: MeOut, 401: ErrorOut}, summary="Who am I")
def me(request: HttpRequest) -> dict[str, Any]:
    user = caller(request)
    postings = active_postings(user).select_related("organization", "role", "jurisdiction")
    return {
        **user_out(user).model_dump(),
        "postings": [
            {
                "organization": {"code": p.organization.code, "name": p.organization.name},
                "role": {"code": p.role.code, "name": p.role.name},
                "jurisdiction": p.jurisdiction.code if p.jurisdiction else None,
                "starts_on": p.starts_on,
                "ends_on": p.ends_on,
            }
            for p in postings.order_by("organization__code", "role__code")
        ],
    }
