"""`hubtab hub create ... [--owner EMAIL]` and `hubtab hub invite --hub SLUG --email E --role R`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from hubtab.core.errors import DomainError
from hubtab.core.models import CREW_ROLES, Hub
from hubtab.core.notify import invitation_send
from hubtab.core.services import hub_create, invitation_create


class Command(BaseCommand):
    help = "Manage hubs: create one, invite its crew."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a hub.")
        create.add_argument("--slug", required=True)
        create.add_argument("--name", required=True)
        create.add_argument("--currency", required=True, help="ISO 4217 code, e.g. EUR")
        create.add_argument("--timezone", default="UTC", help="e.g. Europe/Paris")
        create.add_argument("--locale", default="en", help="e.g. fr")
        create.add_argument("--owner", metavar="EMAIL", help="invite this person as the hub's first owner")
        invite = sub.add_parser("invite", help="Invite someone to a hub's crew by email.")
        invite.add_argument("--hub", required=True, metavar="SLUG")
        invite.add_argument("--email", required=True)
        invite.add_argument("--role", required=True, choices=[r.value for r in CREW_ROLES])

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create":
                hub = hub_create(
                    slug=options["slug"],
                    name=options["name"],
                    currency=options["currency"].upper(),
                    timezone=options["timezone"],
                    locale=options["locale"],
                )
                self.stdout.write(f"Created hub {hub.slug} ({hub.name}, {hub.currency}, {hub.timezone}, {hub.locale}).")
                if options["owner"]:
                    self._invite(hub, options["owner"], "owner")
            else:
                found = Hub.objects.filter(slug=options["hub"]).first()
                if found is None:
                    raise CommandError(f"hub_not_found: no hub with slug {options['hub']!r}")
                self._invite(found, options["email"], options["role"])
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc

    def _invite(self, hub: Hub, email: str, role: str) -> None:
        invitation, token = invitation_create(hub=hub, email=email, role=role, invited_by=None)
        link = settings.HUBTAB_BASE_URL.rstrip("/") + reverse("invitation_accept", args=[token])
        invitation_send(invitation=invitation, link=link)
        self.stdout.write(f"Invited {invitation.email} as {role}; the email carries this link:\n{link}")
