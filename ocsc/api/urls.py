from django.urls import path, re_path
from django.views.generic import RedirectView

from ocsc.api import docs
from ocsc.api.api import api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="api-v1:openapi-view")),
    path("docs/assets/<str:name>", docs.asset, name="api-docs-asset"),
    path("", api.urls),
    re_path(r"^", docs.not_found),
]
