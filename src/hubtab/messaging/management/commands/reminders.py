"""`hubtab reminders`: scan for balance reminders due now and send them (the worker does this every 10 minutes)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from hubtab.messaging.reminders import balance_reminders_run


class Command(BaseCommand):
    help = "Queue and send the balance reminders that are due."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = balance_reminders_run()
        self.stdout.write(
            f"reminders: {counts['low']} low, {counts['negative']} below zero queued;"
            f" {counts['sent']} sent, {counts['retry']} to retry, {counts['failed']} failed"
        )
