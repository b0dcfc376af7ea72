"""What the audit pages show: each crew action in the reader's language, amounts written their way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext

from hubtab.core.models import AuditEvent
from hubtab.core.money import money_format, reader_locale, unit_get


@dataclass(frozen=True)
class AuditLine:
    created_at: datetime
    actor_email: str
    text: str


def audit_text(event: AuditEvent) -> str:
    """The event's summary in the reader's language, its amounts written their way."""
    values = {
        name: money_format(value["minor"], unit_get(hub_id=event.hub_id, code=value["unit"]), reader_locale())
        if isinstance(value, dict) and "minor" in value
        else gettext(value) if isinstance(value, str) and name.endswith("_word") else value
        for name, value in event.params.items()
    }  # fmt: skip
    try:
        return gettext(event.summary) % values if values else gettext(event.summary)
    except (KeyError, TypeError, ValueError):  # a summary written before it had params
        return event.summary


def audit_lines(events: Iterable[AuditEvent]) -> list[AuditLine]:
    return [AuditLine(created_at=e.created_at, actor_email=e.actor_email, text=audit_text(e)) for e in events]
