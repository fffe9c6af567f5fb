"""Clients for the API: anonymous, or signed in with a bearer token (issue_token)."""

import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ocsc.accounts.actions import issue_token
from ocsc.accounts.models import User
from ocsc.notify.models import SmsMessage

API = "/api/v1"


class Api:
    """A test client speaking JSON to /api/v1, as `user` (a bearer token) or anonymously."""

    def __init__(self, user: User | None = None, *, key: str | None = None) -> None:
        if user is not None and key is None:
            key = issue_token(user, name="tests")[1]
        self.user = user
        self.key = key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = Client(headers=headers)

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(API + path, params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(API + path, body or {}, content_type="application/json")

    def delete(self, path: str) -> Any:
        return self.client.delete(API + path)

    def upload(self, content: bytes, name: str = "scan.pdf") -> Any:
        return self.client.post(API + "/uploads", {"file": SimpleUploadedFile(name, content)})

    def submit_form(self, submission: Any, files: dict[str, tuple[str, bytes]]) -> Any:
        """`POST /applications` as a form: the JSON in `application`, files by code."""
        form: dict[str, Any] = {"application": json.dumps(submission)}
        form.update({code: SimpleUploadedFile(*file) for code, file in files.items()})
        return self.client.post(API + "/applications", form)


def sms_code(phone: str) -> str:
    """The code of the last sign-in SMS sent to `phone` (E.164), read from the outbox."""
    message = SmsMessage.objects.filter(phone=phone).order_by("-created_at", "-pk").first()
    assert message is not None, f"no SMS to {phone}"
    found = re.search(r"\b(\d{6})\b", message.text)
    assert found is not None, message.text
    return found[1]


@pytest.fixture
def anonymous() -> Api:
    return Api()
