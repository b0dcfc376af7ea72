"""`hubtab worker`: the background task worker (django-tasks-db) plus the cron scheduler
(django-crontask) that enqueues periodic tasks such as the ledger's expiries."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run background tasks and the periodic scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls for new tasks.")
        parser.add_argument("--no-scheduler", action="store_true", help="Run tasks only; schedule nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        scheduler = None
        if not options["no_scheduler"]:
            scheduler = subprocess.Popen([sys.executable, "-m", "hubtab", "crontask", "--no-heartbeat"])
        try:
            call_command("db_worker", interval=options["interval"])
        finally:
            if scheduler is not None:
                scheduler.terminate()
                scheduler.wait(timeout=10)
