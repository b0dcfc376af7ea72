from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "hubtab.ledger"
    label = "ledger"
    verbose_name = "Ledger"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from hubtab.ledger.pg import install_functions

        post_migrate.connect(install_functions, sender=self)
