from django.urls import path

from ocsc.live import views

app_name = "live"
urlpatterns = [
    path("applications/<str:tracking_no>", views.application_events, name="application"),
]
