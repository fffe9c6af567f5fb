"""FILE_STORAGE=s3: uploaded documents go to the bucket, come back through the app to those
who may see the application, and are never public. The bucket is moto's in-process S3; the
storage is django-storages as configured by ocsc/settings.py."""

import runpy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pytest_django.fixtures import Settings

from ocsc.cases.models import Attachment
from tests.api.conftest import Api
from tests.conftest import ROOT
from tests.personas import PDF, People, upload, water_connection

BUCKET = "ocsc-files"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


@pytest.fixture
def s3(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("FILE_STORAGE", "s3")
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", BUCKET)
    monkeypatch.setenv("AWS_S3_REGION_NAME", "us-east-1")
    configured = runpy.run_path(str(ROOT / "ocsc" / "settings.py"))["STORAGES"]["default"]
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        settings.STORAGES = {**settings.STORAGES, "default": configured}
        yield client


def test_documents_live_in_the_bucket_and_come_back_through_the_app(
    people: People, s3: Any
) -> None:
    ayesha, bilal = Api(people.ayesha), Api(people.bilal)
    sent = ayesha.upload(PDF, "cnic.pdf")
    assert sent.status_code == 201, sent.json()
    upload_id = sent.json()["upload_id"]

    attachment = Attachment.objects.get(uuid=upload_id)
    key = attachment.file.name
    assert key.startswith("private/") and key.endswith(upload_id)
    stored = s3.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == PDF

    # Not public: the object grants nothing to everyone, and any address the storage makes
    # for it is signed.
    grants = s3.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert [g for g in grants if g["Grantee"].get("URI") == ALL_USERS] == []
    assert "Signature=" in attachment.file.url or "X-Amz-Signature=" in attachment.file.url

    documents = {"cnic_copy": upload_id, "affidavit": upload(people.ayesha)}
    application = water_connection(people, documents=documents)
    path = f"/applications/{application.tracking_no}/documents/{upload_id}"
    response = ayesha.get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert bilal.get(path).status_code == 404
