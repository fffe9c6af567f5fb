from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings

ROOT = Path(__file__).resolve().parent.parent
MINI_CATALOG = ROOT / "tests" / "catalog" / "data" / "mini.yaml"
KP_CATALOG = ROOT / "catalogs" / "kp.yaml"


@pytest.fixture(autouse=True)
def fast_settings(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tasks run immediately, passwords hash cheaply, e-mail stays in memory.

    Without pytest-django (`-p no:django`, as for tests/workflow) there is nothing to set.
    """
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    settings: Settings = request.getfixturevalue("settings")
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    yield


@pytest.fixture
def mini_catalog(db: None) -> None:
    """One TMA kind, two TMAs in Mardan district, a water connection and a complaint."""
    call_command("load_catalog", str(MINI_CATALOG), verbosity=0)
