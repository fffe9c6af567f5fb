"""The docs page at /api/v1/docs: Swagger UI from the copy bundled with django-ninja.

Ninja renders its page with local static files only when "ninja" is an installed app, and
otherwise from a CDN. This page uses the same bundled files, served by `asset` below, so the
docs work offline and need no collectstatic.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import ninja
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import escape, json_script
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from ninja.openapi.docs import DocsBase

if TYPE_CHECKING:
    from ninja import NinjaAPI

BUNDLED = Path(ninja.__file__).parent / "static" / "ninja"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.svg": "image/svg+xml",
    "favicon.png": "image/png",
}


class LocalSwagger(DocsBase):
    def render_page(self, request: HttpRequest, api: "NinjaAPI", **kwargs: Any) -> HttpResponse:
        settings = {
            "url": self.get_openapi_url(api, kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
            "persistAuthorization": True,
        }

        def src(name: str) -> str:
            return escape(reverse("api-docs-asset", args=[name]))

        csrf = escape(get_token(request))
        page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(api.title)}</title>
<link rel="stylesheet" href="{src("swagger-ui.css")}">
<link rel="icon" href="{src("favicon.svg")}" type="image/svg+xml">
</head>
<body data-csrf-token="{csrf}" data-api-csrf="true">
{json_script(settings, "swagger-settings")}
<div id="swagger-ui"></div>
<script src="{src("swagger-ui-bundle.js")}"></script>
<script src="{src("swagger-ui-init.js")}"></script>
</body>
</html>
"""
        return HttpResponse(page)


@require_GET
def asset(request: HttpRequest, name: str) -> HttpResponseBase:
    if name not in ASSETS:
        return JsonResponse({"detail": "No such file.", "code": "not_found"}, status=404)
    response = FileResponse((BUNDLED / name).open("rb"), content_type=ASSETS[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any other address under /api/v1/: a JSON 404, never the HTML error page."""
    return JsonResponse(
        {"detail": f"No endpoint at {request.path}: see /api/v1/docs.", "code": "not_found"},
        status=404,
    )
