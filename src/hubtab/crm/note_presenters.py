"""What the pages show of notes: each note on the person's page with what the reader may do to it,
and the follow-ups due on the overview, in the reader's language and the hub's time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from hubtab.core.dates import day_medium, moment_short
from hubtab.core.models import Hub, User
from hubtab.core.money import reader_locale
from hubtab.crm.models import Customer, Note
from hubtab.crm.notes import note_excerpt, note_may_delete, note_may_edit

# Saving a note twice in a row is not an edit worth showing.
EDITED_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class NoteLine:
    id: int
    body: str
    author: str
    written: str
    edited: str  # when it was last changed, or "" if never
    pinned: bool
    follow_up: str  # the follow-up's day, or ""
    follow_up_state: str  # "open", "today", "overdue", "done" or ""
    may_edit: bool
    may_delete: bool
    may_manage: bool  # pin, unpin, mark the follow-up done


def _follow_up_state(note: Note, today: date) -> str:
    if note.follow_up_on is None:
        return ""
    if note.follow_up_done_at is not None:
        return "done"
    if note.follow_up_on < today:
        return "overdue"
    return "today" if note.follow_up_on == today else "open"


def note_lines(
    *, hub: Hub, notes: Iterable[Note], reader: User, is_owner: bool, may_manage: bool, today: date
) -> list[NoteLine]:
    zone, locale = ZoneInfo(hub.timezone), reader_locale()
    lines = []
    for note in notes:
        edited = note.updated_at - note.created_at > EDITED_AFTER
        lines.append(
            NoteLine(
                id=note.id,
                body=note.body,
                author=note.author.get_full_name() if note.author else _("a former crew member"),
                written=moment_short(localtime(note.created_at, zone), locale),
                edited=moment_short(localtime(note.updated_at, zone), locale) if edited else "",
                pinned=note.pinned,
                follow_up=day_medium(note.follow_up_on, locale) if note.follow_up_on else "",
                follow_up_state=_follow_up_state(note, today),
                may_edit=may_manage and note_may_edit(note=note, user=reader),
                may_delete=may_manage and note_may_delete(note=note, user=reader, is_owner=is_owner),
                may_manage=may_manage,
            )
        )
    return lines


@dataclass(frozen=True)
class FollowUpLine:
    note_id: int
    customer: Customer
    excerpt: str
    due: str
    overdue: bool


def follow_up_lines(*, notes: Iterable[Note], today: date) -> list[FollowUpLine]:
    """The overview's follow-ups due: who, what the note says, and since when."""
    locale = reader_locale()
    return [
        FollowUpLine(
            note_id=note.id,
            customer=note.customer,
            excerpt=note_excerpt(note.body),
            due=day_medium(note.follow_up_on, locale),
            overdue=note.follow_up_on < today,
        )
        for note in notes
        if note.follow_up_on is not None
    ]
