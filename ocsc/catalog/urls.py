from django.urls import path

from ocsc.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.manage, name="manage"),
    path("<slug:org>/<slug:code>/process/", views.process_page, name="process"),
    path("<slug:org>/<slug:code>/process/check/", views.check, name="process_check"),
    path("<slug:org>/<slug:code>/process/dry-run/", views.dry_run_view, name="process_dry_run"),
    path("<slug:org>/<slug:code>/process/publish/", views.publish, name="process_publish"),
]
