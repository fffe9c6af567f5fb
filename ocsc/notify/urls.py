from django.urls import path

from ocsc.notify import views

app_name = "notify"
urlpatterns = [
    path("sms/inbound", views.sms_inbound, name="sms_inbound"),
    path("push/subscription", views.push_subscription, name="push_subscription"),
]
