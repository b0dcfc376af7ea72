from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "hubtab.web"
    label = "web"
    verbose_name = "Web"
