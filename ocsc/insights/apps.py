from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "ocsc.insights"
    label = "insights"
    verbose_name = "Insights"
