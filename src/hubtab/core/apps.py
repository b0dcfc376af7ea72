from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "hubtab.core"
    label = "core"
    verbose_name = "Hubtab core"
