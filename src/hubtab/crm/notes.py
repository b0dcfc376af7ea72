"""What crew write about a person: notes, their pins and follow-ups, who may change them, and their
lines in the audit trail and the person's timeline."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, Role, User
from hubtab.core.selectors import membership_roles
from hubtab.core.services import audit_record
from hubtab.crm import events
from hubtab.crm.models import Customer, Note

BODY_MAX = 5000
EXCERPT_LENGTH = 80


def note_excerpt(body: str, length: int = EXCERPT_LENGTH) -> str:
    """The start of a note on one line, for the timeline and the overview."""
    return Truncator(" ".join(body.split())).chars(length)


def is_hub_owner(*, hub: Hub, user: User) -> bool:
    return Role.OWNER in membership_roles(hub=hub, user=user)


def note_may_edit(*, note: Note, user: User) -> bool:
    """Only the author changes what they wrote (a note whose author left stays as it is)."""
    return note.author_id is not None and note.author_id == user.id


def note_may_delete(*, note: Note, user: User, is_owner: bool) -> bool:
    """The author, or the hub's owner: they answer for what the hub keeps about people."""
    return is_owner or note_may_edit(note=note, user=user)


def _clean_body(body: object) -> str:
    # A browser sends line breaks as CRLF but counts them as one character, as we keep them.
    text = body.replace("\r\n", "\n").strip() if isinstance(body, str) else ""
    if not text:
        raise DomainError("validation_error", _("Write something in the note."))
    if len(text) > BODY_MAX:
        raise DomainError(
            "validation_error",
            _("A note can be at most %(max)s characters long; this one has %(count)s.")
            % {"max": BODY_MAX, "count": len(text)},
        )
    return text


def _locked(hub: Hub, note: Note) -> Note:
    """The note's row, locked: two crew changing one note at once apply one after the other."""
    found = (
        Note.objects.filter(hub=hub)
        .filter(id=note.id)
        .select_related("customer")
        .select_for_update(of=("self",))
        .first()
    )
    if found is None:
        raise DomainError("not_found", _("This note no longer exists."))
    return found


def note_add(
    *, hub: Hub, customer: Customer, author: User, body: str, pinned: bool = False, follow_up_on: date | None = None
) -> Note:
    text = _clean_body(body)
    if customer.hub_id != hub.id:
        raise DomainError("not_found", _("No such customer at this hub."))
    with transaction.atomic():
        now = timezone.now()
        note = Note.objects.create(
            hub=hub, customer=customer, author=author, body=text, pinned=pinned, follow_up_on=follow_up_on,
            created_at=now, updated_at=now,
        )  # fmt: skip
        events.note_added(note=note, excerpt=note_excerpt(text), actor=author)
        audit_record(
            hub=hub, actor=author, action="note.add", summary=gettext_noop("Added a note"), subject=customer,
            data={"note_id": note.id, "pinned": pinned,
                  "follow_up_on": follow_up_on.isoformat() if follow_up_on else None},
        )  # fmt: skip
    return note


def note_edit(*, hub: Hub, note: Note, actor: User, body: str, pinned: bool, follow_up_on: date | None) -> Note:
    """The author rewrites their note; a new follow-up date opens the follow-up again."""
    text = _clean_body(body)
    with transaction.atomic():
        note = _locked(hub, note)
        if not note_may_edit(note=note, user=actor):
            raise DomainError("forbidden", _("Only the author of a note can change it."))
        changed = [
            name
            for name, value in (("body", text), ("pinned", pinned), ("follow_up_on", follow_up_on))
            if getattr(note, name) != value
        ]
        if not changed:
            return note
        if "follow_up_on" in changed:
            note.follow_up_done_at = None
        note.body, note.pinned, note.follow_up_on = text, pinned, follow_up_on
        note.updated_at = timezone.now()
        note.save()
        if "body" in changed:
            events.note_changed(note=note, excerpt=note_excerpt(text))
        audit_record(
            hub=hub, actor=actor, action="note.edit", summary=gettext_noop("Changed a note"),
            subject=note.customer, data={"note_id": note.id, "changed": changed},
        )  # fmt: skip
    return note


def note_delete(*, hub: Hub, note: Note, actor: User) -> None:
    """The author, or the owner, deletes a note; its timeline line keeps that a note was written,
    not what it said."""
    with transaction.atomic():
        note = _locked(hub, note)
        if not note_may_delete(note=note, user=actor, is_owner=is_hub_owner(hub=hub, user=actor)):
            raise DomainError("forbidden", _("Only the author of a note, or the hub's owner, can delete it."))
        customer = note.customer
        events.note_deleted(note=note)
        audit_record(
            hub=hub, actor=actor, action="note.delete", summary=gettext_noop("Deleted a note"), subject=customer,
            data={"note_id": note.id, "author_id": note.author_id, "excerpt": note_excerpt(note.body)},
        )  # fmt: skip
        note.delete()


def note_pin(*, hub: Hub, note: Note, actor: User, pinned: bool) -> Note:
    """Pin a note to the top of the person's notes, or unpin it: any crew who look after people may."""
    with transaction.atomic():
        note = _locked(hub, note)
        if note.pinned == pinned:
            return note
        note.pinned = pinned
        note.save(update_fields=["pinned"])
        audit_record(
            hub=hub, actor=actor, action="note.pin" if pinned else "note.unpin",
            summary=gettext_noop("Pinned a note") if pinned else gettext_noop("Unpinned a note"),
            subject=note.customer, data={"note_id": note.id},
        )  # fmt: skip
    return note


def note_follow_up_done(*, hub: Hub, note: Note, actor: User) -> Note:
    """Whoever followed the person up marks it done (once: a second click changes nothing)."""
    with transaction.atomic():
        note = _locked(hub, note)
        if note.follow_up_on is None:
            raise DomainError("no_follow_up", _("This note has no follow-up to mark done."))
        if note.follow_up_done_at is not None:
            return note
        note.follow_up_done_at = timezone.now()
        note.save(update_fields=["follow_up_done_at"])
        audit_record(
            hub=hub, actor=actor, action="note.follow_up_done", summary=gettext_noop("Marked a follow-up done"),
            subject=note.customer, data={"note_id": note.id, "follow_up_on": note.follow_up_on.isoformat()},
        )  # fmt: skip
    return note
