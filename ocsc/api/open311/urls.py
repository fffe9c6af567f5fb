"""Open311 GeoReport v2 under /open311/v2/: every path ends in .json or .xml."""

from django.urls import path, re_path, register_converter

from ocsc.api.open311 import views


class Format:
    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(Format, "open311_format")

urlpatterns = [
    path("discovery.<open311_format:fmt>", views.discovery, name="open311-discovery"),
    path("services.<open311_format:fmt>", views.services, name="open311-services"),
    path(
        "services/<str:service_code>.<open311_format:fmt>",
        views.definition,
        name="open311-service",
    ),
    path("requests.<open311_format:fmt>", views.requests, name="open311-requests"),
    path(
        "requests/<str:service_request_id>.<open311_format:fmt>",
        views.request_detail,
        name="open311-request",
    ),
    path("tokens/<str:token>.<open311_format:fmt>", views.token, name="open311-token"),
    re_path(r"^", views.not_found),
]
