"""Every error as JSON `{detail, code, errors?}`, with the status the domain exception means.

| exception | status, code |
| --- | --- |
| malformed input (schema), InvalidInput, FileRefused | 422 invalid_input / file_refused |
| a body that is not JSON, or a form that cannot be read (no boundary) | 400 bad_request |
| not signed in | 401 not_signed_in |
| NotAllowed, ActionRefused not_allowed, CSRF | 403 not_allowed / csrf_failed |
| Http404 (missing or not yours) | 404 not_found |
| ApplicationChanged, ActionRefused closed | 409 changed / closed |
| SignInRefused too_many_codes | 429 too_many_codes, with Retry-After |
| KeyRefused (X-API-Key unknown or revoked) | 401 bad_api_key |
| a NUL character PostgreSQL refuses (DataError) | 422 invalid_input |
| RateLimited (X-API-Key past its rate) | 429 too_many_requests, with Retry-After |
"""

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError

from ocsc.accounts.actions import SignInRefused
from ocsc.api.auth import CsrfFailed
from ocsc.cases.access import NotAllowed
from ocsc.cases.actions import ApplicationChanged
from ocsc.cases.files import FileRefused
from ocsc.cases.formdata import InvalidInput
from ocsc.clients.actions import KeyRefused, RateLimited
from ocsc.workflow import ActionRefused

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "not_signed_in",
    403: "not_allowed",
    404: "not_found",
    405: "method_not_allowed",
    409: "changed",
    413: "too_large",
    422: "invalid_input",
    429: "too_many_requests",
}

# What each engine refusal means over HTTP, and the field it is about.
REFUSALS: dict[str, tuple[int, str | None]] = {
    "not_allowed": (403, None),
    "closed": (409, None),
    "unknown_state": (409, None),
    "unknown_action": (422, "action"),
    "comment_required": (422, "comment"),
    "documents_missing": (422, "documents"),
}


def error(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    detail: str,
    *,
    code: str | None = None,
    errors: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    body: dict[str, Any] = {"detail": detail, "code": code or HTTP_CODES.get(status, "error")}
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = api.create_response(request, body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="ocsc"'
    return response


def field_path(loc: tuple[Any, ...] | list[Any], single_body: bool) -> str:
    """A schema error's location as a dotted field path: ('body', 'payload', 'data', 'x') →
    'data.x'; ('query', 'limit') → 'limit'; ('file', 'file') → 'file'."""
    parts = [str(part) for part in loc[1:]]
    if loc and loc[0] == "body" and single_body and len(parts) > 1:
        parts = parts[1:]  # the name of the view's one body parameter
    if loc and loc[0] == "file" and len(parts) > 1 and parts[0] == parts[1]:
        parts = parts[1:]
    return ".".join(parts) or "__all__"


def _schema_error(api: NinjaAPI, request: HttpRequest, exc: SchemaError) -> HttpResponse:
    errors: dict[str, str] = {}
    for item in exc.errors:
        path = field_path(tuple(item.get("loc", ())), single_body=True)
        errors.setdefault(path, str(item.get("msg", "invalid")))
    summary = "; ".join(f"{key}: {message}" for key, message in errors.items())
    detail = _("Invalid input: %(summary)s") % {"summary": summary}
    return error(api, request, 422, detail, errors=errors)


def respond(api: NinjaAPI, request: HttpRequest, exc: Exception) -> HttpResponse:
    """The JSON response for an exception raised by an endpoint (or its authentication)."""
    match exc:
        case SchemaError():
            return _schema_error(api, request, exc)
        case InvalidInput():
            summary = "; ".join(f"{key}: {message}" for key, message in exc.errors.items())
            detail = _("Invalid input: %(summary)s") % {"summary": summary}
            return error(api, request, 422, detail, errors=exc.errors)
        case DjangoValidationError():
            message = "; ".join(exc.messages)
            return error(api, request, 422, message, errors={"__all__": message})
        case FileRefused():
            return error(
                api, request, 422, str(exc), code="file_refused", errors={"file": str(exc)}
            )
        case NotAllowed():
            return error(api, request, 403, str(exc))
        case Http404():
            return error(api, request, 404, str(exc) or _("Not found."))
        case ApplicationChanged():
            return error(api, request, 409, str(exc))
        case ActionRefused():
            status, field = REFUSALS.get(exc.code, (422, None))
            extra: dict[str, Any] = {"missing": list(exc.missing)} if exc.missing else {}
            errors = {field: exc.message} if field else None
            return error(api, request, status, exc.message, code=exc.code, errors=errors, **extra)
        case SignInRefused(code="too_many_codes"):
            response = error(api, request, 429, str(exc), code=exc.code)
            response["Retry-After"] = str(exc.retry_after or 60)
            return response
        case SignInRefused():
            return error(api, request, 401, str(exc), code=exc.code)
        case KeyRefused():
            return error(api, request, 401, str(exc), code="bad_api_key")
        case RateLimited():
            response = error(api, request, 429, str(exc))
            response["Retry-After"] = str(exc.retry_after)
            return response
        case CsrfFailed():
            return error(api, request, 403, exc.message, code="csrf_failed")
        case AuthenticationError():
            return error(
                api,
                request,
                401,
                _("Sign in: send the header Authorization: Bearer TOKEN, or use the session."),
            )
        case HttpError():
            return error(api, request, exc.status_code, exc.message)
        case DataError() if "NUL" in str(exc) or "\\u0000" in str(exc):
            # PostgreSQL takes no NUL in text (psycopg refuses it before sending) nor in jsonb
            # (the statement fails): nothing was written. Found by fuzzing on PostgreSQL.
            message = _("Text may not contain NUL characters.")
            return error(api, request, 422, message, errors={"__all__": message})
        case RequestDataTooBig():
            return error(api, request, 413, _("The request is too large."))
        case SuspiciousOperation():
            return error(api, request, 400, _("The request could not be read."))
        case MultiPartParserError():
            message = _("The form could not be read: %(reason)s") % {"reason": exc}
            return error(api, request, 400, message)
    log.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return error(api, request, 500, _("Something went wrong on our side."), code="server_error")


def install(api: NinjaAPI) -> None:
    """Route every exception through `respond` (replacing ninja's default handlers)."""

    def handler(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
        return respond(api, request, exc if isinstance(exc, Exception) else exc())

    for exc_class in (
        SchemaError,
        InvalidInput,
        DjangoValidationError,
        FileRefused,
        NotAllowed,
        Http404,
        ApplicationChanged,
        ActionRefused,
        SignInRefused,
        KeyRefused,
        RateLimited,
        HttpError,
        SuspiciousOperation,
        Exception,
    ):
        api.add_exception_handler(exc_class, handler)
