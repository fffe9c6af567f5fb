from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ocsc.accounts"
    label = "accounts"
    verbose_name = "Accounts"
