from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "hubtab.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from hubtab.billing import receivers  # noqa: F401  (connects the signal receivers)
