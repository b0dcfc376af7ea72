"""`hubtab hub create --slug S --name N --currency EUR [--timezone Europe/Paris] [--locale fr]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hubtab.core.errors import DomainError
from hubtab.core.services import hub_create


class Command(BaseCommand):
    help = "Manage hubs."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a hub.")
        create.add_argument("--slug", required=True)
        create.add_argument("--name", required=True)
        create.add_argument("--currency", required=True, help="ISO 4217 code, e.g. EUR")
        create.add_argument("--timezone", default="UTC", help="e.g. Europe/Paris")
        create.add_argument("--locale", default="en", help="e.g. fr")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            hub = hub_create(
                slug=options["slug"],
                name=options["name"],
                currency=options["currency"].upper(),
                timezone=options["timezone"],
                locale=options["locale"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(f"Created hub {hub.slug} ({hub.name}, {hub.currency}, {hub.timezone}, {hub.locale}).")
