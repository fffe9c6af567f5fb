from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "ocsc.catalog"
    label = "catalog"
    verbose_name = "Catalog"
