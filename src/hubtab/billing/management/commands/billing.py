"""`hubtab billing run [--now ISO]`: take the scheduled payments that are due now (what the worker's
periodic job does), and print what happened."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from hubtab.billing.run import billing_run


class Command(BaseCommand):
    help = "Billing: `run` charges the scheduled payments whose morning has come."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="Charge what is due now, and look again at payments left processing.")
        run.add_argument("--now", help="Act as if it were this moment (ISO 8601 with a UTC offset); for tests.")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options.get("now"):
            try:
                now = datetime.fromisoformat(options["now"])
            except ValueError as exc:
                raise CommandError(f"--now: {exc}") from exc
            if now.tzinfo is None:
                raise CommandError("--now needs a UTC offset, e.g. 2026-10-25T04:00:00+00:00.")
        counts = billing_run(now=now)
        self.stdout.write(", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "nothing due")
