import pytest
from pytest_django.fixtures import Settings


@pytest.fixture(autouse=True)
def live_settings(settings: Settings) -> None:
    """Streams long enough for any test; the poll slow enough to stay out of the way of the
    wake-up path a test is about (the poll's own tests make it fast)."""
    settings.LIVE_STREAM_SECONDS = 30
    settings.LIVE_KEEPALIVE_SECONDS = 15
    settings.LIVE_POLL_SECONDS = 30
