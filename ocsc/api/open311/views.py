"""The GeoReport v2 endpoints: parse, check the key, call a query or the filing action,
render JSON or XML. Errors are `[{code, description}]` (`errors/error` in XML)."""

import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from ocsc.api.open311 import present, queries
from ocsc.api.open311.queries import Refused, RequestFilter
from ocsc.api.open311.render import errors, render
from ocsc.cases.formdata import InvalidInput
from ocsc.catalog.models import ProcessVersion
from ocsc.clients.actions import KeyRefused, RateLimited, file_request, use_key
from ocsc.clients.models import ApiKey

# What a view returns: the XML root element, the data, and the status.
Answer = tuple[str, Any, int]
View = Callable[..., Answer]

WINDOW = timedelta(days=90)  # the spec's default and widest range of requested_datetime
PAGE_MAX = 1000
ATTRIBUTE = re.compile(r"attribute\[([^\]]+)\](\[\])?")


def _key(request: HttpRequest) -> str | None:
    """An api_key in the form body or query, or an X-API-Key header."""
    return (
        request.POST.get("api_key")
        or request.GET.get("api_key")
        or request.headers.get("X-API-Key")
        or None
    )


def _check_key(raw: str) -> ApiKey:
    try:
        return use_key(raw)
    except KeyRefused:
        raise Refused(403, _("api_key: the key is unknown or revoked")) from None


def _refuse_nul(request: HttpRequest, path: dict[str, Any]) -> None:
    """A NUL character is in no valid parameter, and PostgreSQL cannot store or compare it."""
    given = [*request.GET.lists(), *request.POST.lists(), *((k, [v]) for k, v in path.items())]
    wrong = sorted({name for name, values in given if any("\x00" in v for v in values)})
    if wrong:
        raise Refused(400, *(_("%(name)s: contains a NUL character") % {"name": n} for n in wrong))


def endpoint(*methods: str) -> Callable[[View], Callable[..., HttpResponse]]:
    """An Open311 endpoint answering `methods`: a given key is checked and counted (GET) or
    required (POST); every refusal is rendered as the spec's error list."""
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)

    def wrap(view: View) -> Callable[..., HttpResponse]:
        @csrf_exempt  # no cookies: clients authenticate with api_key
        @wraps(view)
        def handle(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in allowed:
                    response = errors(
                        fmt, 405, [_("Use %(methods)s.") % {"methods": ", ".join(methods)}]
                    )
                    response["Allow"] = ", ".join(sorted(allowed))
                    return response
                _refuse_nul(request, kwargs)
                raw = _key(request)
                if request.method != "POST" and raw:
                    _check_key(raw)
                root, data, status = view(request, **kwargs)
            except Refused as exc:
                return errors(fmt, exc.status, exc.descriptions)
            except RateLimited as exc:
                response = errors(fmt, 429, [str(exc)])
                response["Retry-After"] = str(exc.retry_after)
                return response
            return render(fmt, root, data, status=status)

        return handle

    return wrap


@endpoint("GET")
def discovery(request: HttpRequest) -> Answer:
    latest = ProcessVersion.objects.order_by("-created_at").values_list("created_at", flat=True)
    changeset = present.w3c(latest.first() or timezone.now())
    return (
        "discovery",
        {
            "changeset": changeset,
            "contact": _("The administrators of this OCSC: %(site)s")
            % {"site": request.build_absolute_uri("/")},
            "key_service": _(
                "Ask the administrators for an API key: one is needed to POST requests."
            ),
            "endpoints": [
                {
                    "specification": present.SPECIFICATION,
                    "url": request.build_absolute_uri("/open311/v2"),
                    "changeset": changeset,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
        200,
    )


@endpoint("GET")
def services(request: HttpRequest) -> Answer:
    where = queries.scope(request.GET.get("jurisdiction_id"))
    rows = [present.service_out(service, where) for service in queries.services(where)]
    return "services", rows, 200


@endpoint("GET")
def definition(request: HttpRequest, service_code: str) -> Answer:
    where = queries.scope(request.GET.get("jurisdiction_id"))
    service = queries.service(where, service_code)
    return "service_definition", present.definition_out(service, where), 200


def _moment(params: QueryDict, name: str) -> datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = parse_datetime(raw.replace(" ", "+"))  # a `+` of an offset, left unencoded
        day = None if moment else parse_date(raw)
    except ValueError:
        moment = day = None
    if day is not None:
        moment = datetime.combine(day, time.min)
    if moment is None:
        raise Refused(
            400, _("%(name)s: '%(value)s' is not a W3C date-time") % {"name": name, "value": raw}
        )
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _listed(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _request_filter(params: QueryDict) -> tuple[RequestFilter, int]:
    problems: list[str] = []
    given_start, given_end = _moment(params, "start_date"), _moment(params, "end_date")
    if given_start is None:
        end = given_end or timezone.now()
        start = end - WINDOW
    else:
        start = given_start
        end = given_end or start + WINDOW
    if end - start > WINDOW:
        problems.append(_("end_date: at most 90 days after start_date"))
    statuses = set(_listed(params.get("status", "")))
    if statuses - {"open", "closed"}:
        problems.append(_("status: open, closed, or both"))
    size = params.get("page_size", "").strip() or str(PAGE_MAX)
    if not size.isdigit() or not 1 <= int(size) <= PAGE_MAX:
        problems.append(_("page_size: a number from 1 to %(max)d") % {"max": PAGE_MAX})
    if problems:
        raise Refused(400, *problems)
    wanted = RequestFilter(
        ids=_listed(params.get("service_request_id", "")),
        codes=_listed(params.get("service_code", "")),
        start=start,
        end=end,
        statuses=statuses,
    )
    return wanted, int(size)


@endpoint("GET", "POST")
def requests(request: HttpRequest) -> Answer:
    if request.method == "POST":
        return _file(request)
    where = queries.scope(request.GET.get("jurisdiction_id"))
    wanted, size = _request_filter(request.GET)
    rows = queries.filtered(queries.requests(where), wanted)[:size]
    return "service_requests", [present.request_out(a, where) for a in rows], 200


@endpoint("GET")
def request_detail(request: HttpRequest, service_request_id: str) -> Answer:
    where = queries.scope(request.GET.get("jurisdiction_id"))
    found = queries.requests(where).filter(tracking_no=service_request_id).first()
    if found is None:
        raise Refused(
            404,
            _("service_request_id: no request '%(id)s'") % {"id": service_request_id},
        )
    return "service_requests", [present.request_out(found, where)], 200


@endpoint("GET")
def token(request: HttpRequest, token: str) -> Answer:
    """OCSC files a request at once: the token a POST would give is its tracking number."""
    where = queries.scope(request.GET.get("jurisdiction_id"))
    if not queries.requests(where).filter(tracking_no=token).exists():
        raise Refused(404, _("token: no request '%(token)s'") % {"token": token})
    return "service_requests", [{"service_request_id": token, "token": token}], 200


def _attributes(form: QueryDict, types: dict[str, str]) -> dict[str, Any]:
    """`attribute[code]=value` (and `attribute[code][]=` for lists) as form data."""
    data: dict[str, Any] = {}
    for name in form:
        match = ATTRIBUTE.fullmatch(name)
        if match is None:
            continue
        code, values = match[1], form.getlist(name)
        kind = types.get(code)
        if kind == "multi_choice":
            data.setdefault(code, [])
            data[code] += [value for value in values if value]
        elif kind == "date":
            data[code] = values[-1].split("T")[0]
        else:
            data[code] = values[-1]
    return data


def _where_wrong(key: str, form: present.Form) -> str:
    """An action's field path as the Open311 parameter it came from."""
    if key.startswith("data."):
        field = key.removeprefix("data.")
        if field in form.location_keys:
            return "lat/long/address_string"
        if field == form.description_key:
            return "description"
        return f"attribute[{field}]"
    names = {
        "location": "lat/long/address_string",
        "text": "description",
        "service": "service_code",
        "jurisdiction": "jurisdiction_id",
    }
    return names.get(key, key)


def _file(request: HttpRequest) -> Answer:
    """POST requests: file a complaint for the citizen with `phone`."""
    raw = _key(request)
    if not raw:
        raise Refused(403, _("api_key: required to post a request"))
    key = _check_key(raw)
    params = request.POST
    where = queries.scope(params.get("jurisdiction_id"))
    code = params.get("service_code", "").strip()
    if not code:
        raise Refused(400, _("service_code: required"))
    service = queries.service(where, code)
    form = present.form_of(service)

    problems: list[str] = []
    lat, lng = params.get("lat", "").strip(), params.get("long", "").strip()
    address = params.get("address_string", "").strip()
    if not (lat or lng or address):
        problems.append(_("lat and long, or address_string: required (address_id is not used)"))
    phone = params.get("phone", "").strip()
    if not phone:
        problems.append(_("phone: required, to find or register the citizen"))
    description = params.get("description", "").strip()
    if len(description) > present.DESCRIPTION_LIMIT:
        problems.append(
            _("description: at most %(limit)d characters") % {"limit": present.DESCRIPTION_LIMIT}
        )
    if problems:
        raise Refused(400, *problems)
    jurisdiction = queries.served_area(service.organization)
    if jurisdiction is None:
        raise Refused(
            400, _("jurisdiction_id: %(org)s serves no area") % {"org": service.organization.code}
        )

    location: dict[str, Any] = {}
    if lat or lng:
        location.update(lat=lat or None, lng=lng or None)
    if address:
        location["address"] = address
    data = _attributes(params, form.types())
    for field in form.location_keys:
        data.setdefault(field, location)
    comment = ""
    if description:
        if form.description_key and form.description_key not in data:
            data[form.description_key] = description
        else:
            comment = description
    name = " ".join(
        part
        for part in (params.get("first_name", "").strip(), params.get("last_name", "").strip())
        if part
    )
    try:
        application = file_request(
            key=key,
            service=service,
            jurisdiction=jurisdiction,
            phone=phone,
            name=name,
            email=params.get("email", "").strip(),
            data=data,
            location=location,
            comment=comment,
        )
    except InvalidInput as exc:
        said = (f"{_where_wrong(key, form)}: {message}" for key, message in exc.errors.items())
        raise Refused(400, *dict.fromkeys(said)) from None  # the location's, said once
    filed = {
        "service_request_id": application.tracking_no,
        "service_notice": "",
        "account_id": None,
    }
    return "service_requests", [filed], 201


def not_found(request: HttpRequest) -> HttpResponse:
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return errors(
        fmt,
        404,
        [_("No such Open311 endpoint: see %(url)s") % {"url": "/open311/v2/discovery.json"}],
    )
