"""Django's WSGI handler, with a shorter middleware stack for the apps' API calls.

A call to the JSON API that carries a bearer token and no cookie (the mobile app, a
third-party client, `bench.load`) has no session to load or save, no CSRF cookie, no
messages and no Django user: the API finds its caller by the token (`api.auth`). Four of
the site's middleware do nothing for it but cost a tenth of a short call's CPU (about
0.12 of 1.4 ms for a citizen opening an application: the session store, the lazy user, the
messages' cookie and session storages and their signer, the CSRF checks). Such a call runs
on a handler without them; every other request, the same API call with a cookie included
(the portal's, whose session may be the caller), runs on the whole stack, as before.
"""

from typing import Any

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

# What a cookie-less bearer call skips; the rest of settings.MIDDLEWARE (security headers,
# static files, the language, the common checks, the frame header) it runs as any request.
BEARER_SKIPS = frozenset(
    {
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
    }
)
API_PREFIX = "/api/"


class _Stack(WSGIHandler):
    """A WSGI handler on `middleware` instead of settings.MIDDLEWARE."""

    def __init__(self, middleware: list[str]) -> None:
        self.middleware = middleware
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        site = settings.MIDDLEWARE
        settings.MIDDLEWARE = self.middleware  # read here only, once, at start-up
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = site


def is_bearer_call(environ: dict[str, Any]) -> bool:
    """An API call with `Authorization` and without any cookie."""
    return (
        environ.get("PATH_INFO", "").startswith(API_PREFIX)
        and "HTTP_AUTHORIZATION" in environ
        and "HTTP_COOKIE" not in environ
    )


class Site:
    """The WSGI application: bearer calls (`is_bearer_call`) on the short stack, every other
    request on the whole one."""

    def __init__(self) -> None:
        self.whole = WSGIHandler()
        self.bearer = _Stack([m for m in settings.MIDDLEWARE if m not in BEARER_SKIPS])

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        handler = self.bearer if is_bearer_call(environ) else self.whole
        return handler(environ, start_response)


def get_application() -> Site:
    """As `django.core.wsgi.get_wsgi_application`, for `Site`."""
    django.setup(set_prefix=False)
    return Site()
