from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "hubtab.shop"
    label = "shop"
    verbose_name = "Shop"
