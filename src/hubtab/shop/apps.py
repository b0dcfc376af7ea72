from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "hubtab.shop"
    label = "shop"
    verbose_name = "Shop"

    def ready(self) -> None:
        from hubtab.crm.cycles import cycles_source_register
        from hubtab.shop import receivers  # noqa: F401  (connects the signal receivers)
        from hubtab.shop.selectors import cycles_for_crm

        cycles_source_register(cycles_for_crm)
