"""What messaging does when a domain below it has a message to send."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from hubtab.core.models import Invitation
from hubtab.core.signals import invitation_ready
from hubtab.messaging.services import delivery_send_now, message_queue


@receiver(invitation_ready)
def invitation_email(sender: Any, invitation: Invitation, link: str, **kwargs: Any) -> None:
    """The invitation email, in the hub's language, queued once per invitation and sent at once:
    someone is waiting for it (the sending job retries it if the mail server does not answer)."""
    delivery = message_queue(
        hub=invitation.hub, customer=None, to_email=invitation.email, kind="invitation",
        dedupe_key=f"invitation:{invitation.id}", template="core/email/invitation",
        context={"invitation": invitation, "hub": invitation.hub, "link": link},
    )  # fmt: skip
    if delivery is not None:
        delivery_send_now(delivery=delivery)
