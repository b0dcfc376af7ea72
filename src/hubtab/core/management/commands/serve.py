"""`hubtab serve [--port P]`: the web app as it runs in production, under gunicorn with workers."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the web app with gunicorn (a production WSGI server), static files included."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HUBTAB_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("HUBTAB_PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("HUBTAB_WEB_WORKERS", str((os.cpu_count() or 1) * 2 + 1)))
        )
        parser.add_argument("--threads", type=int, default=int(os.environ.get("HUBTAB_WEB_THREADS", "1")))

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("collectstatic", interactive=False, verbosity=0)
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "hubtab.wsgi:application",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--access-logfile",
            "-",
            "--chdir",
            str(settings.PROJECT_DIR),
        ]
        self.stdout.write(
            f"Serving Hubtab on http://{options['host']}:{options['port']} with {options['workers']} workers"
        )
        os.execvp(argv[0], argv)
