from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "hubtab.crm"
    label = "crm"
    verbose_name = "Customers"

    def ready(self) -> None:
        from hubtab.crm import receivers  # noqa: F401  (connects the signal receivers)
