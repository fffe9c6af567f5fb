from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "ocsc.cases"
    label = "cases"
    verbose_name = "Applications"
