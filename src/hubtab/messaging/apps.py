from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "hubtab.messaging"
    label = "messaging"
    verbose_name = "Messages"
