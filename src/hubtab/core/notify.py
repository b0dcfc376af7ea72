"""Emails about people and access (invitations): core hands them to messaging, which renders and
sends every email Hubtab sends (one Delivery row each)."""

from __future__ import annotations

from hubtab.core.models import Invitation
from hubtab.core.signals import invitation_ready


def invitation_send(*, invitation: Invitation, link: str) -> None:
    handled = invitation_ready.send(sender=Invitation, invitation=invitation, link=link)
    if not handled:
        raise RuntimeError("No receiver sends invitations: is hubtab.messaging installed?")
