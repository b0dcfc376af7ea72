from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "hubtab.shop"
    label = "shop"
    verbose_name = "Shop"

    def ready(self) -> None:
        from hubtab.shop import receivers  # noqa: F401  (connects the signal receivers)
