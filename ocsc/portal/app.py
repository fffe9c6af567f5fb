"""The installable app: its manifest, its service worker (served from the root so that it
controls every page), and the page shown when offline with nothing cached."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import gettext as _

# Bump when the shell changes: the worker then drops its old caches.
SHELL_VERSION = "ocsc-shell-v1"


def manifest(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "name": "e-TMA — " + _("Online Civic Services Center"),
            "short_name": "e-TMA",
            "description": _(
                "Apply to your municipal service providers and follow every application to its end."
            ),
            "start_url": "/?source=app",
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#0b6e4f",
            "lang": request.LANGUAGE_CODE,
            "dir": "rtl" if request.LANGUAGE_CODE in ("ur", "ps") else "ltr",
            "icons": [
                {"src": static("portal/icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": static("portal/icon-512.png"), "sizes": "512x512", "type": "image/png"},
                {"src": static("portal/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            ],
        },
        content_type="application/manifest+json",
    )


def service_worker(request: HttpRequest) -> HttpResponse:
    shell = [
        "/offline/",
        static("vendor/bootstrap/bootstrap.min.css"),
        static("vendor/bootstrap/bootstrap.rtl.min.css"),
        static("vendor/htmx/htmx.min.js"),
        static("vendor/htmx/sse.min.js"),
        static("portal/portal.css"),
        static("portal/app.js"),
        static("portal/icon.svg"),
    ]
    response = render(
        request,
        "portal/sw.js",
        {"version": SHELL_VERSION, "shell": shell},
        content_type="application/javascript",
    )
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/offline.html")
