"""Emails about people and access (invitations), sent through Django's email API."""

from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from hubtab.core.models import Invitation


def invitation_send(*, invitation: Invitation, link: str) -> None:
    context = {"invitation": invitation, "hub": invitation.hub, "link": link}
    with translation.override(invitation.hub.locale):
        subject = render_to_string("core/email/invitation_subject.txt", context).strip()
        body = render_to_string("core/email/invitation_body.txt", context)
    send_mail(subject, body, None, [invitation.email])
