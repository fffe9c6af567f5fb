"""`GET /live/applications/<tracking_no>`: an application's timeline as Server-Sent Events.

Who: the signed-in session (the portal and the installed app: a browser's EventSource cannot
set headers) or `Authorization: Bearer <token>` (native clients). What: what the API shows
them, internal notes only to officials of the organization and monitors.
"""

from django.contrib.auth import get_user
from django.http import Http404, HttpRequest, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from ocsc.accounts.actions import token_user
from ocsc.accounts.models import User
from ocsc.cases.models import Application
from ocsc.live.broker import run_db
from ocsc.live.stream import events, watchable


def problem(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def caller(request: HttpRequest) -> User | None:
    """The bearer token's user when the request carries one, else the session's."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return None
        found = token_user(key.strip())
        return found[1] if found is not None else None
    user = get_user(request)
    return user if isinstance(user, User) and user.is_active else None


def resume_point(request: HttpRequest) -> int:
    """The last event id the client has: the Last-Event-ID header (EventSource sends it when
    it reconnects), else `?after=`; 0 for the whole timeline."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("after") or "0"
    try:
        after = int(raw.strip())
    except ValueError:
        raise ValueError(f"expected an event id, got {raw[:40]!r}") from None
    if after < 0:
        raise ValueError(f"expected an event id, got {after}")
    return after


def admit(request: HttpRequest, tracking_no: str) -> tuple[Application, bool] | JsonResponse:
    """Who calls and whether they may watch, in one trip to a worker thread (and one database
    connection): the application and whether they see internal notes, or the refusal."""
    user = caller(request)
    if user is None:
        response = problem(401, "Sign in, or send Authorization: Bearer <token>.", "not_signed_in")
        response["WWW-Authenticate"] = 'Bearer realm="ocsc"'
        return response
    try:
        return watchable(user, tracking_no)
    except Http404:
        return problem(404, "No such application.", "not_found")


@require_GET
async def application_events(request: HttpRequest, tracking_no: str) -> HttpResponseBase:
    try:
        after = resume_point(request)
    except ValueError as exc:
        return problem(400, f"Last-Event-ID / after: {exc}", "invalid_input")
    admitted = await run_db(admit, request, tracking_no)
    if isinstance(admitted, JsonResponse):
        return admitted
    application, internal = admitted
    stream = StreamingHttpResponse(
        events(application, internal=internal, after=after), content_type="text/event-stream"
    )
    stream["Cache-Control"] = "no-cache"
    stream["X-Accel-Buffering"] = "no"  # nginx: pass each message on at once
    return stream
