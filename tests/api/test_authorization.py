"""Who gets what, for every endpoint and every persona (DESIGN.md section 6).

Each row calls one endpoint as each persona, on Ayesha's water connection in
kp-mardan-mardan-nc-1 waiting at scrutiny (the clerk's step) — a fresh application for each
persona where the call changes it — and compares what each persona got with the row.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from ocsc.accounts.actions import issue_token
from ocsc.accounts.models import User
from ocsc.cases.actions import add_comment
from ocsc.cases.models import Application
from tests.api.conftest import Api
from tests.personas import PDF, People, upload, water_connection

PERSONAS = ("anonymous", "ayesha", "bilal", "kamran", "sana", "zeb", "faisal", "tariq", "maryam")
#            no one       applicant other    clerk    sub-eng other   other    head     monitor
#                                   citizen  (owner)  (same   org     area     (TMO)
#                                                     org)

Call = Callable[[People, str], str]


@dataclass(frozen=True)
class Row:
    name: str
    call: Call
    expected: str  # one result per persona, in PERSONAS order

    def __str__(self) -> str:
        return self.name


def user(people: People, persona: str) -> User | None:
    return None if persona == "anonymous" else getattr(people, persona)


def api(people: People, persona: str) -> Api:
    return Api(user(people, persona))


def status_and_count(response: object) -> str:
    status = response.status_code  # type: ignore[attr-defined]
    return f"{status}:{response.json()['count']}" if status == 200 else str(status)  # type: ignore[attr-defined]


# Reads: all personas look at one application ----------------------------------------


def shared(people: People) -> Application:
    return Application.objects.first() or water_connection(people)


def list_applications(people: People, persona: str) -> str:
    shared(people)
    return status_and_count(api(people, persona).get("/applications"))


def detail(people: People, persona: str) -> str:
    number = shared(people).tracking_no
    return str(api(people, persona).get(f"/applications/{number}").status_code)


def events(people: People, persona: str) -> str:
    """The status, and how many internal notes the persona sees."""
    application = shared(people)
    if not application.events.filter(visibility="internal").exists():
        add_comment(application, actor=people.kamran, text="Check the meter first.", internal=True)
    response = api(people, persona).get(f"/applications/{application.tracking_no}/events")
    if response.status_code != 200:
        return str(response.status_code)
    return f"200:{sum(e['visibility'] == 'internal' for e in response.json())}"


def document(people: People, persona: str) -> str:
    application = shared(people)
    attachment = application.attachments.get(requirement="cnic_copy")
    path = f"/api/v1/applications/{application.tracking_no}/documents/{attachment.uuid}"
    return str(api(people, persona).client.get(path).status_code)


def queue(people: People, persona: str) -> str:
    shared(people)
    return status_and_count(api(people, persona).get("/queue"))


def me(people: People, persona: str) -> str:
    response = api(people, persona).get("/me")
    if response.status_code != 200:
        return str(response.status_code)
    return f"200:{len(response.json()['postings'])}"


def tokens(people: People, persona: str) -> str:
    return str(api(people, persona).get("/auth/tokens").status_code)


def catalog(people: People, persona: str) -> str:
    client = api(people, persona)
    paths = (
        "/jurisdictions",
        "/organizations",
        "/services",
        "/organizations/tma-mardan/services/water-connection",
    )
    return "/".join(str(client.get(path).status_code) for path in paths)


# Writes: a fresh application for each persona ----------------------------------------


def comment(people: People, persona: str, *, internal: bool = False) -> str:
    number = water_connection(people).tracking_no
    response = api(people, persona).post(
        f"/applications/{number}/comments", {"text": "When will it be done?", "internal": internal}
    )
    return str(response.status_code)


def internal_note(people: People, persona: str) -> str:
    return comment(people, persona, internal=True)


def forward(people: People, persona: str) -> str:
    """The status, and on success the role the timeline says the persona acted as."""
    application = water_connection(people)
    response = api(people, persona).post(
        f"/applications/{application.tracking_no}/actions", {"action": "forward"}
    )
    if response.status_code != 200:
        return str(response.status_code)
    return f"200:{application.events.order_by('-pk').first().actor_role}"  # type: ignore[union-attr]


def withdraw(people: People, persona: str) -> str:
    application = water_connection(people)
    response = api(people, persona).post(
        f"/applications/{application.tracking_no}/actions",
        {"action": "withdraw", "comment": "I no longer need it."},
    )
    state = Application.objects.get(pk=application.pk).state
    return f"{response.status_code}:{state}"


def assign(people: People, persona: str) -> str:
    number = water_connection(people).tracking_no
    response = api(people, persona).post(
        f"/applications/{number}/assign", {"user": people.kamran.phone}
    )
    return str(response.status_code)


def attach(people: People, persona: str) -> str:
    number = water_connection(people).tracking_no
    someone = user(people, persona)
    upload_id = upload(someone) if someone else "00000000-0000-0000-0000-000000000000"
    response = api(people, persona).post(
        f"/applications/{number}/documents", {"documents": {"cnic_copy": upload_id}}
    )
    return str(response.status_code)


def upload_file(people: People, persona: str) -> str:
    return str(api(people, persona).upload(b"%PDF-1.4 a scan").status_code)


def submit(people: People, persona: str) -> str:
    someone = user(people, persona)
    documents = {"cnic_copy": upload(someone), "affidavit": upload(someone)} if someone else {}
    response = api(people, persona).post(
        "/applications",
        {
            "service": "water-connection",
            "jurisdiction": "kp-mardan-mardan-nc-1",
            "data": {"connection_size": "one_inch"},
            "documents": documents,
        },
    )
    return str(response.status_code)


def submit_form(people: People, persona: str) -> str:
    submission = {
        "service": "water-connection",
        "jurisdiction": "kp-mardan-mardan-nc-1",
        "data": {"connection_size": "one_inch"},
    }
    files = {"cnic_copy": ("cnic.pdf", PDF), "affidavit": ("affidavit.pdf", PDF)}
    return str(api(people, persona).submit_form(submission, files).status_code)


def send_code(people: People, persona: str) -> str:
    someone = user(people, persona)
    phone = someone.phone if someone else "03451112222"
    return str(api(people, persona).post("/auth/otp", {"phone": phone}).status_code)


def password_sign_in(people: People, persona: str) -> str:
    someone = user(people, persona)
    phone = someone.phone if someone else "03451112222"
    body = {"phone": phone, "password": "pw-official-2026"}
    return str(api(people, persona).post("/auth/token", body).status_code)


def sign_out(people: People, persona: str) -> str:
    return str(api(people, persona).delete("/auth/token").status_code)


def revoke_own_token(people: People, persona: str) -> str:
    someone = user(people, persona)
    prefix = issue_token(someone, name="old phone")[0].prefix if someone else "abcdefgh"
    return str(api(people, persona).delete(f"/auth/tokens/{prefix}").status_code)


# One result per persona, in the order: anonymous ayesha bilal kamran sana zeb faisal tariq maryam
ROWS = [
    Row(
        "GET /applications",
        list_applications,
        "401 200:1 200:0 200:1 200:1 200:0 200:0 200:1 200:1",
    ),
    Row("GET /applications/{no}", detail, "401 200 404 200 200 404 404 200 200"),
    Row("GET /applications/{no}/events", events, "401 200:0 404 200:1 200:1 404 404 200:1 200:1"),
    Row("GET /applications/{no}/documents/{id}", document, "401 200 404 200 200 404 404 200 200"),
    Row("POST /applications/{no}/comments", comment, "401 201 404 201 201 404 404 201 403"),
    Row(
        "POST /applications/{no}/comments internal",
        internal_note,
        "401 403 404 201 201 404 404 201 403",
    ),
    Row(
        "POST /applications/{no}/actions forward",
        forward,
        "401 403 404 200:clerk 403 404 404 200:tmo 403",
    ),
    Row(
        "POST /applications/{no}/actions withdraw",
        withdraw,
        "401:scrutiny 200:withdrawn 404:scrutiny 403:scrutiny 403:scrutiny 404:scrutiny "
        "404:scrutiny 403:scrutiny 403:scrutiny",
    ),
    Row("POST /applications/{no}/assign", assign, "401 403 404 403 403 404 404 200 403"),
    Row("POST /applications/{no}/documents", attach, "401 201 404 201 201 404 404 201 403"),
    Row("GET /queue", queue, "401 200:0 200:0 200:1 200:0 200:0 200:0 200:0 200:0"),
    Row("POST /uploads", upload_file, "401 201 201 201 201 201 201 201 201"),
    Row("POST /applications", submit, "401 201 201 201 201 201 201 201 201"),
    Row("POST /applications as a form", submit_form, "401 201 201 201 201 201 201 201 201"),
    Row("GET /me", me, "401 200:0 200:0 200:1 200:1 200:1 200:1 200:1 200:0"),
    Row("GET /auth/tokens", tokens, "401 200 200 200 200 200 200 200 200"),
    Row("DELETE /auth/tokens/{prefix}", revoke_own_token, "401 204 204 204 204 204 204 204 204"),
    Row("DELETE /auth/token", sign_out, "401 204 204 204 204 204 204 204 204"),
    Row("POST /auth/otp", send_code, "202 202 202 202 202 202 202 202 202"),
    Row("POST /auth/token password", password_sign_in, "401 401 401 200 200 200 200 200 401"),
    Row("GET catalog (4 endpoints)", catalog, " ".join(["200/200/200/200"] * 9)),
]


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_who_gets_what(people: People, row: Row) -> None:
    got = {persona: row.call(people, persona) for persona in PERSONAS}
    assert got == dict(zip(PERSONAS, row.expected.split(), strict=True))


def test_every_endpoint_is_in_the_matrix() -> None:
    from ocsc.api.api import api as ninja_api

    schema = ninja_api.get_openapi_schema(path_prefix="")
    endpoints = {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
    }
    covered = {
        " ".join(row.name.split()[:2])
        .replace("{no}", "{tracking_no}")
        .replace("{id}", "{document_id}")
        for row in ROWS
    }
    catalog_paths = {
        "GET /jurisdictions",
        "GET /organizations",
        "GET /services",
        "GET /organizations/{org}/services/{code}",
    }
    assert endpoints - catalog_paths == covered - {"GET catalog"}
