"""The whole app on a free loopback port, in a thread, sharing the test database: for
browser tests and for client libraries that speak HTTP."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler, StaticFilesHandler
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

from ocsc.bridge import Bridge


@contextmanager
def serving(settings: Any) -> Iterator[str]:
    """Serve the app as ocsc.asgi does (static files too) until the block ends; yields its
    base URL."""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = Bridge(
        asgi=ASGIStaticFilesHandler(get_asgi_application()),
        wsgi=StaticFilesHandler(get_wsgi_application()),
        threads=4,
        async_prefixes=("/live/",),
    )
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )
    app_server = uvicorn.Server(config)
    thread = threading.Thread(target=app_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not app_server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app_server.should_exit = True
        thread.join(timeout=10)
