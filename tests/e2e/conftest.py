"""Browser tests: the app served by uvicorn in a thread (ASGI, so live streams work), and
Debian's chromium driven by Playwright in a phone-sized window."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from tests.serve import serving

# Playwright's sync API keeps an event loop in the test thread; the test's own database work
# there is plain synchronous code, which Django would otherwise refuse next to a loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )
    yield browser
    browser.close()


@pytest.fixture
def server(transactional_db: None, settings: object) -> Iterator[str]:
    """The whole app on a free loopback port, sharing the test database."""
    with serving(settings) as url:
        yield url


def phone_context(browser: Browser, base_url: str, language: str = "en") -> BrowserContext:
    context = browser.new_context(
        base_url=base_url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale=language,
        extra_http_headers={"Accept-Language": language},
    )
    context.set_default_timeout(10_000)
    return context
