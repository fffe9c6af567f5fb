from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "ocsc.notify"
    label = "notify"
    verbose_name = "Notifications"
