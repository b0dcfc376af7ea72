"""`hubtab apitoken create --hub SLUG --scopes all [--name N]`: prints only the new token."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hubtab.api.services import scopes_parse, token_create
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub


class Command(BaseCommand):
    help = "Manage a hub's API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print it (shown only once).")
        create.add_argument("--hub", required=True, metavar="SLUG")
        create.add_argument("--scopes", required=True, help="'all', or e.g. customers:read,accounts:read")
        create.add_argument("--name", default="Command line")

    def handle(self, *args: Any, **options: Any) -> None:
        hub = Hub.objects.filter(slug=options["hub"]).first()
        if hub is None:
            raise CommandError(f"hub_not_found: no hub with slug {options['hub']!r}")
        try:
            _, secret = token_create(
                hub=hub, name=options["name"], scopes=scopes_parse(options["scopes"]), created_by=None
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(secret)
