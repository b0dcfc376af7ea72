"""A hub's CRM settings (when a customer counts as lapsed, whether people may sign up at the shop by
themselves): read with their defaults, changed whole or not at all, and audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.services import audit_record
from hubtab.crm.models import CrmSettings

SETTINGS_FIELDS = ("lapsed_after_weeks", "joining_open")
# Two years: beyond that "lapsed" no longer tells crew anything about who drifted away.
LAPSED_WEEKS_MAX = 104


def crm_settings_of(*, hub: Hub) -> CrmSettings:
    """The hub's CRM settings, or the defaults (unsaved) where it never changed them."""
    return CrmSettings.objects.filter(hub=hub).first() or CrmSettings(hub=hub)


def crm_settings_update(*, hub: Hub, actor: User, **fields: Any) -> CrmSettings:
    """Change the hub's CRM settings; the whole change is checked before anything is saved, and
    a change that changes nothing writes nothing."""
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise DomainError("validation_error", f"Unknown settings: {', '.join(sorted(unknown))}.")
    _weeks_check(fields.get("lapsed_after_weeks", 8))
    if not isinstance(fields.get("joining_open", True), bool):
        raise DomainError("validation_error", _("Say whether people may sign up at the shop."))
    with transaction.atomic():
        CrmSettings.objects.bulk_create([CrmSettings(hub=hub)], ignore_conflicts=True)
        settings = CrmSettings.objects.select_for_update().filter(hub=hub).get()
        changes = {
            name: [getattr(settings, name), value] for name, value in fields.items() if getattr(settings, name) != value
        }
        if not changes:
            return settings
        for name, value in fields.items():
            setattr(settings, name, value)
        settings.save(update_fields=list(changes))
        audit_record(
            hub=hub,
            actor=actor,
            action="crm_settings.update",
            summary=gettext_noop("Changed the CRM settings: %(fields)s"),
            params={"fields": ", ".join(name.replace("_", " ") for name in changes)},
            subject=settings,
            data=changes,
        )
    return settings


def _weeks_check(weeks: object) -> None:
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= LAPSED_WEEKS_MAX:
        raise DomainError(
            "validation_error",
            _("Give a whole number of weeks from 1 to %(max)s.") % {"max": LAPSED_WEEKS_MAX},
        )
