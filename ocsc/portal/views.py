from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language_bidi

from ocsc.catalog.queries import organizations_with_services


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/home.html",
        {"organizations": organizations_with_services(), "rtl": get_language_bidi()},
    )
