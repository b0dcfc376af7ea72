from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "hubtab.api"
    label = "api"
    verbose_name = "HTTP API"
