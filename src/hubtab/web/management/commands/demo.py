"""`hubtab demo`: seed a believable demo instance (once) and print how to log in."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from hubtab.web.demo import LOGIN_HELP, demo_exists, demo_seed


class Command(BaseCommand):
    help = "Create the demo hubs, crew and customers with account history (skipped if they exist)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not demo_exists():
            demo_seed(self.stdout.write)
        self.stdout.write(LOGIN_HELP)
