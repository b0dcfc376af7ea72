"""`hubtab ledger verify [--hub SLUG]` and `hubtab ledger expire`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hubtab.core.models import Hub
from hubtab.ledger import expiry
from hubtab.ledger.verify import ledger_counts, ledger_verify


class Command(BaseCommand):
    help = "Check the ledger's invariants (verify) or run due expiries (expire)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="Check every ledger invariant; exit 1 on any breach.")
        verify.add_argument("--hub", help="Only this hub (slug).")
        expire = sub.add_parser("expire", help="Expire holds and granted credit whose time has come.")
        expire.add_argument("--hub", help="Only this hub (slug).")

    def handle(self, *args: Any, **options: Any) -> None:
        hub_id = None
        if options.get("hub"):
            hub = Hub.objects.filter(slug=options["hub"]).first()
            if hub is None:
                raise CommandError(f"No hub with slug {options['hub']!r}.")
            hub_id = hub.id
        if options["action"] == "verify":
            breaches = ledger_verify(hub_id=hub_id)
            counts = ledger_counts(hub_id=hub_id)
            summary = ", ".join(f"{n} {name}" for name, n in counts.items())
            if breaches:
                for breach in breaches:
                    self.stderr.write(f"BREACH {breach.check}: {breach.detail}")
                raise CommandError(f"ledger verify: {len(breaches)} breach(es) found over {summary}.", returncode=1)
            self.stdout.write(f"ledger verify: all invariants hold over {summary}.")
        else:
            holds = expiry.holds_expire_due(hub_id=hub_id)
            lots = expiry.lots_expire_due(hub_id=hub_id)
            self.stdout.write(f"expired {holds} hold(s) and {lots} lot(s)")
