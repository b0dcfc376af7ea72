"""`hubtab crm figures rebuild [--hub SLUG]`: recompute each person's figures from their activity."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hubtab.core.models import Hub
from hubtab.crm.activity import figures_rebuild


class Command(BaseCommand):
    help = "CRM upkeep: `figures rebuild` recomputes every person's figures from their activity."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="topic", required=True)
        figures = sub.add_parser("figures", help="Each person's figures (orders, total spent, last top-up).")
        figures.add_argument("action", choices=["rebuild"])
        figures.add_argument("--hub", help="Only this hub (slug).")

    def handle(self, *args: Any, **options: Any) -> None:
        hubs = Hub.objects.order_by("slug")
        if options.get("hub"):
            hubs = hubs.filter(slug=options["hub"])
            if not hubs.exists():
                raise CommandError(f"No hub with slug {options['hub']!r}.")
        for hub in hubs:
            fixed = figures_rebuild(hub_id=hub.id)
            verdict = "all figures held" if not fixed else f"{fixed} person(s)' figures were wrong and are fixed"
            self.stdout.write(f"{hub.slug}: {verdict}.")
