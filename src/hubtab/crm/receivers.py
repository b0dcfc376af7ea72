"""What customer records do when something happens to a login."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from hubtab.crm.services import customer_records_link


@receiver(email_confirmed)
def link_records_on_email_confirmed(sender: Any, request: Any, email_address: EmailAddress, **kwargs: Any) -> None:
    """A person who proved an address gets the customer records kept under it, at every hub."""
    customer_records_link(user=email_address.user, email=email_address.email)
