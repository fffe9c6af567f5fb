from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "ocsc.portal"
    label = "portal"
    verbose_name = "Portal"
