from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "hubtab.payments"
    label = "payments"
    verbose_name = "Payments"
