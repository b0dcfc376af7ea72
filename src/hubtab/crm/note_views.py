"""Crew pages for notes on a person: add, edit, delete, pin, and mark a follow-up done (one URL per
action; the rules are crm.notes', a refusal shows as a message or on the form)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hubtab.core.access import hub_view, may, request_user
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.permissions import Permission
from hubtab.crm.forms import NoteForm
from hubtab.crm.models import Customer, Note
from hubtab.crm.note_presenters import note_lines
from hubtab.crm.notes import (
    is_hub_owner,
    note_add,
    note_delete,
    note_edit,
    note_follow_up_done,
    note_may_edit,
    note_pin,
)
from hubtab.crm.selectors import customer_get, note_get, notes_of


def notes_section(request: HttpRequest, hub: Hub, customer: Customer) -> dict[str, Any]:
    """The person's page's notes, each with what the reader may do to it, and the form to add one."""
    reader = request_user(request)
    may_manage = may(request, Permission.EDIT_CUSTOMERS)
    lines = note_lines(
        hub=hub, notes=notes_of(hub=hub, customer=customer), reader=reader, may_manage=may_manage,
        is_owner=may_manage and is_hub_owner(hub=hub, user=reader),
        today=timezone.localdate(timezone=ZoneInfo(hub.timezone)),
    )  # fmt: skip
    return {"notes": lines, "note_form": NoteForm() if may_manage else None}


def _customer_or_404(hub: Hub, customer_id: int) -> Customer:
    customer = customer_get(hub=hub, customer_id=customer_id)
    if customer is None:
        raise Http404("No such customer.")
    return customer


def _note_or_404(hub: Hub, customer_id: int, note_id: int) -> Note:
    note = note_get(hub=hub, customer=_customer_or_404(hub, customer_id), note_id=note_id)
    if note is None:
        raise Http404("No such note.")
    return note


def _back(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    """Back to where the button was: the overview's follow-ups, or the person's notes."""
    if request.POST.get("back") == "dashboard":
        return redirect("dashboard", slug=hub.slug)
    return redirect(reverse("customer_detail", args=[hub.slug, customer_id]) + "#notes")


def _form_page(request: HttpRequest, hub: Hub, customer: Customer, form: NoteForm, note: Note | None) -> HttpResponse:
    may_edit = note is None or note_may_edit(note=note, user=request_user(request))
    return render(
        request,
        "crm/note_form.html",
        {"hub": hub, "customer": customer, "form": form, "note": note, "may_edit": may_edit},
    )


@hub_view(Permission.EDIT_CUSTOMERS)
@require_http_methods(["POST"])
def customer_note_add(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    """A note from the person's page; a refused one comes back on its own page, with what was typed."""
    customer = _customer_or_404(hub, customer_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            note_add(hub=hub, customer=customer, author=request_user(request), **form.cleaned_data)
        except DomainError as exc:
            form.add_error("body" if exc.code == "validation_error" else None, exc.message)
        else:
            messages.success(request, _("Note added."))
            return _back(request, hub, customer.id)
    return _form_page(request, hub, customer, form, None)


@hub_view(Permission.EDIT_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def customer_note_edit(request: HttpRequest, hub: Hub, customer_id: int, note_id: int) -> HttpResponse:
    """The author changes their note; anyone else sees it, and why they can't."""
    note = _note_or_404(hub, customer_id, note_id)
    initial = {"body": note.body, "follow_up_on": note.follow_up_on, "pinned": note.pinned}
    form = NoteForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            note_edit(hub=hub, note=note, actor=request_user(request), **form.cleaned_data)
        except DomainError as exc:
            form.add_error("body" if exc.code == "validation_error" else None, exc.message)
        else:
            messages.success(request, _("Note saved."))
            return _back(request, hub, note.customer_id)
    return _form_page(request, hub, note.customer, form, note)


@hub_view(Permission.EDIT_CUSTOMERS)
@require_http_methods(["POST"])
def customer_note_delete(request: HttpRequest, hub: Hub, customer_id: int, note_id: int) -> HttpResponse:
    return _note_act(
        request, hub, customer_id, note_id, lambda note, actor: note_delete(hub=hub, note=note, actor=actor),
        _("Note deleted."),
    )  # fmt: skip


@hub_view(Permission.EDIT_CUSTOMERS)
@require_http_methods(["POST"])
def customer_note_pin(request: HttpRequest, hub: Hub, customer_id: int, note_id: int) -> HttpResponse:
    """Pin (pinned=1) or unpin the note: the request says which, so a double click does no harm."""
    pinned = request.POST.get("pinned") == "1"
    return _note_act(
        request, hub, customer_id, note_id,
        lambda note, actor: note_pin(hub=hub, note=note, actor=actor, pinned=pinned),
    )  # fmt: skip


@hub_view(Permission.EDIT_CUSTOMERS)
@require_http_methods(["POST"])
def customer_note_done(request: HttpRequest, hub: Hub, customer_id: int, note_id: int) -> HttpResponse:
    return _note_act(
        request, hub, customer_id, note_id,
        lambda note, actor: note_follow_up_done(hub=hub, note=note, actor=actor), _("Follow-up marked done."),
    )  # fmt: skip


def _note_act(
    request: HttpRequest, hub: Hub, customer_id: int, note_id: int, act: Callable[[Note, User], object], said: str = ""
) -> HttpResponse:
    """Do `act` to the person's note, say how it went, and go back to their page."""
    note = _note_or_404(hub, customer_id, note_id)
    try:
        act(note, request_user(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if said:
            messages.success(request, said)
    return _back(request, hub, customer_id)
