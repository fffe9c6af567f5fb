from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings

if TYPE_CHECKING:
    from tests.personas import People

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
    settings.MEDIA_ROOT = request.getfixturevalue("tmp_path") / "media"
    yield
    from django.utils import translation

    translation.activate("en")  # a request in another language leaves it active


@pytest.fixture
def mini_catalog(db: None) -> None:
    """One TMA kind, two TMAs in Mardan district, a water connection and a complaint."""
    call_command("load_catalog", str(MINI_CATALOG), verbosity=0)


@pytest.fixture
def people(mini_catalog: None) -> "People":
    """The personas of STYLE.md, posted in the small catalog (tests/personas.py)."""
    from tests.personas import make_people

    return make_people()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last. Tests marked `postgresql` need concurrent connections, which the
    in-memory SQLite test database cannot give: they run in the PostgreSQL pass of CI and are
    deselected here."""
    from django.db import connection

    # Browser tests last: Playwright keeps an event loop in the main thread from its first
    # use to the end of the session, and async_to_sync (tests/live) refuses to run beside it.
    items.sort(key=lambda item: "tests/e2e/" in item.nodeid)
    if connection.vendor == "postgresql":
        return
    kept = [item for item in items if item.get_closest_marker("postgresql") is None]
    deselected = [item for item in items if item.get_closest_marker("postgresql") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
