from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "hubtab.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from hubtab.billing import receivers  # noqa: F401  (connects the signal receivers)
        from hubtab.billing.portal import upcoming_payments_section
        from hubtab.crm.portal_sections import portal_section_register

        # The customer's account page (crm, below billing) shows their upcoming payments.
        portal_section_register(upcoming_payments_section)
