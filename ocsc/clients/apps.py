from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "ocsc.clients"
    label = "clients"
    verbose_name = "API clients"
