from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "hubtab.accounts"
    label = "accounts"
    verbose_name = "Customer credit accounts"
