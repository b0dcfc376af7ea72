from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "hubtab.messaging"
    label = "messaging"
    verbose_name = "Messages"

    def ready(self) -> None:
        from hubtab.messaging import receivers  # noqa: F401  (connects the signal receivers)
