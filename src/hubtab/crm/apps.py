from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "hubtab.crm"
    label = "crm"
    verbose_name = "Customers"
