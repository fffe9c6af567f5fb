from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "OCSC administration"
admin.site.site_title = "OCSC"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("ocsc.api.urls")),
    path("open311/v2/", include("ocsc.api.open311.urls")),
    path("live/", include("ocsc.live.urls")),
    path("", include("ocsc.notify.urls")),  # /sms/inbound, /push/subscription
    path("manage/", include("ocsc.catalog.urls")),
    path("", include("ocsc.portal.urls")),
]
