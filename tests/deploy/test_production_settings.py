"""The production profile's settings: the connection pool and the file storage, read from
the environment (ocsc/settings.py run afresh with each environment)."""

import runpy
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.conftest import ROOT

POSTGRES = "postgres://ocsc:secret@db.internal:5432/ocsc"


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in (
        "DATABASE_URL",
        "DB_CONN_MAX_AGE",
        "DB_POOL_MAX_SIZE",
        "DB_POOL_MIN_SIZE",
        "DB_POOL_TIMEOUT",
        "APP_THREADS",
        "DB_PREPARED_STATEMENTS",
        "FILE_STORAGE",
        "AWS_STORAGE_BUCKET_NAME",
        "AWS_S3_ENDPOINT_URL",
        "AWS_S3_REGION_NAME",
        "AWS_S3_ADDRESSING_STYLE",
        "AWS_LOCATION",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "ocsc" / "settings.py"))


def test_no_pool_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    database = settings_with(monkeypatch, DATABASE_URL=POSTGRES)["DATABASES"]["default"]
    assert "pool" not in database.get("OPTIONS", {})


def test_a_pool_on_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    database = settings_with(
        monkeypatch, DATABASE_URL=POSTGRES, DB_POOL_MAX_SIZE="8", DB_POOL_MIN_SIZE="3"
    )["DATABASES"]["default"]
    assert database["OPTIONS"]["pool"] == {"min_size": 3, "max_size": 8, "timeout": 10.0}
    assert database["CONN_MAX_AGE"] == 0


def test_prepared_statements_on_postgresql_unless_turned_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    options = settings_with(monkeypatch, DATABASE_URL=POSTGRES)["DATABASES"]["default"]["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    off = settings_with(monkeypatch, DATABASE_URL=POSTGRES, DB_PREPARED_STATEMENTS="0")
    assert "server_side_binding" not in off["DATABASES"]["default"]["OPTIONS"]
    assert "prepare_threshold" not in off["DATABASES"]["default"]["OPTIONS"]
    sqlite = settings_with(monkeypatch)["DATABASES"]["default"]["OPTIONS"]
    assert "server_side_binding" not in sqlite


def test_request_threads_match_the_pool_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request thread holds one connection: as many threads as the pool has connections."""
    assert settings_with(monkeypatch)["APP_THREADS"] == 8
    pooled = settings_with(monkeypatch, DATABASE_URL=POSTGRES, DB_POOL_MAX_SIZE="5")
    assert pooled["APP_THREADS"] == 5
    assert settings_with(monkeypatch, APP_THREADS="3")["APP_THREADS"] == 3


def test_the_smallest_pool_keeps_at_most_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    database = settings_with(monkeypatch, DATABASE_URL=POSTGRES, DB_POOL_MAX_SIZE="1")["DATABASES"][
        "default"
    ]
    assert database["OPTIONS"]["pool"]["min_size"] == 1


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DB_POOL_MAX_SIZE": "4"}, "connection pooling needs PostgreSQL"),
        (
            {"DATABASE_URL": POSTGRES, "DB_POOL_MAX_SIZE": "4", "DB_CONN_MAX_AGE": "60"},
            "DB_CONN_MAX_AGE must be 0 when DB_POOL_MAX_SIZE is set",
        ),
        (
            {"DATABASE_URL": POSTGRES, "DB_POOL_MAX_SIZE": "4", "DB_POOL_MIN_SIZE": "5"},
            "DB_POOL_MIN_SIZE=5: expected 0 to DB_POOL_MAX_SIZE (4)",
        ),
        ({"APP_THREADS": "0"}, "APP_THREADS='0': expected a whole number above 0."),
        ({"APP_THREADS": "four"}, "APP_THREADS='four': expected a whole number above 0."),
        ({"FILE_STORAGE": "s3"}, "FILE_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME"),
        ({"FILE_STORAGE": "ftp"}, "FILE_STORAGE='ftp': expected local or s3"),
    ],
)
def test_a_wrong_setting_is_refused_with_its_name(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings_with(monkeypatch, **env)


def test_files_on_local_disk_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    storages = settings_with(monkeypatch)["STORAGES"]
    assert storages["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_files_in_an_s3_compatible_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    storages = settings_with(
        monkeypatch,
        FILE_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="ocsc-files",
        AWS_S3_ENDPOINT_URL="https://objects.example.org",
        AWS_S3_ADDRESSING_STYLE="path",
        AWS_LOCATION="mardan",
    )["STORAGES"]
    assert storages["default"] == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "ocsc-files",
            "endpoint_url": "https://objects.example.org",
            "region_name": None,
            "addressing_style": "path",
            "location": "mardan",
            "default_acl": None,
            "querystring_auth": True,
            "custom_domain": None,
        },
    }
