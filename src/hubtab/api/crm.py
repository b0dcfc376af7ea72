"""The CRM over the API: lists of people (by the people list's own filters, or a saved segment),
segments with their live counts, notes on a person and their tags. Every list of people is read
by the one selector the pages use (crm.people), with conditions checked by crm.filters.

Reading needs the scope crm:read (a person's balance also accounts:read); writing needs crm:write
and a token made by crew who may edit customers: a note and a tag change record who made them."""

from __future__ import annotations

import json
from typing import Any

import pydantic
from django.http import HttpRequest
from ninja import Query, Router, Status

from hubtab.accounts.selectors import credit_unit_of
from hubtab.api.errors import ApiError
from hubtab.api.idempotency import idempotent
from hubtab.api.models import ApiToken, Scope
from hubtab.api.paging import keyset_page
from hubtab.api.schemas import (
    ERRORS,
    MAX_ID,
    PAGE,
    ConditionIn,
    ConditionOut,
    NoteIn,
    NoteOut,
    NotePage,
    ObjectId,
    PeoplePage,
    PersonOut,
    SegmentOut,
    SegmentPage,
    TagsIn,
)
from hubtab.api.services import token_scoped
from hubtab.core.errors import DomainError
from hubtab.core.models import User
from hubtab.core.permissions import Permission, permissions_for
from hubtab.core.selectors import membership_roles
from hubtab.crm.filters import MAX_CONDITIONS, Condition, PeopleFilter, condition_check
from hubtab.crm.models import Customer, Note, Segment
from hubtab.crm.notes import note_add
from hubtab.crm.people import people_matching, people_sorted, sort_options
from hubtab.crm.rows import CustomerRow, customer_rows
from hubtab.crm.search import search_words
from hubtab.crm.segments import segment_filter, segment_get, segment_list
from hubtab.crm.selectors import customer_get, notes_of
from hubtab.crm.tags import tags_change

router = Router()

# What tells a person's balance: these conditions and orders need accounts:read too.
MONEY_KINDS = {"balance_min", "balance_max", "running_low", "in_debt"}
MONEY_ORDERS = {"balance", "-balance", "spendable", "-spendable"}
_CONDITIONS = pydantic.TypeAdapter(list[ConditionIn])
Cursor = Query(None, max_length=1000, description="`next_cursor` of the page before")


def _person(token: ApiToken, person_id: int) -> Customer:
    person = customer_get(hub=token.hub, customer_id=person_id)
    if person is None:
        raise ApiError(404, "not_found", "No such person at this hub.")
    return person


def _writer(request: HttpRequest) -> User:
    """Who a write through this token is recorded as: the crew member who made the token, while
    they may still edit customers at the hub."""
    token = token_scoped(request, Scope.CRM_WRITE)
    maker = token.created_by
    if maker is None or Permission.EDIT_CUSTOMERS not in permissions_for(membership_roles(hub=token.hub, user=maker)):
        raise ApiError(
            403, "forbidden", "Notes and tags record who wrote them: use a token made on the hub's API page by "
            "crew who may edit customers.",
        )  # fmt: skip
    return maker


def _may_read_money(token: ApiToken) -> bool:
    return Scope.ACCOUNTS_READ.value in token.scopes


# --- people -------------------------------------------------------------------------------------------


def _conditions(text: str) -> tuple[Condition, ...]:
    """The `conditions` parameter: a JSON list of {kind, value, join}, each checked by crm.filters."""
    if not text.strip():
        return ()
    try:
        typed = _CONDITIONS.validate_python(json.loads(text))
    except ValueError as exc:  # not JSON, or not conditions (pydantic's ValidationError is a ValueError)
        raise ApiError(
            422, "validation_error", 'conditions is a JSON list of {"kind", "value", "join"} objects.'
        ) from exc
    if len(typed) > MAX_CONDITIONS:
        raise ApiError(422, "validation_error", f"At most {MAX_CONDITIONS} conditions.")
    checked = []
    for n, item in enumerate(typed, start=1):
        value = ",".join(item.value) if isinstance(item.value, list) else str(item.value)
        if "\x00" in item.kind + value:
            raise ApiError(422, "invalid_filter", f"Condition {n}: a NUL character is not a value.")
        try:
            checked.append(condition_check(Condition(item.kind, value, item.join)))
        except DomainError as exc:
            raise ApiError(422, "invalid_filter", f"Condition {n} ({item.kind[:40]}): {exc.message}") from exc
    return tuple(checked)


def _people_filter(token: ApiToken, conditions: str, q: str, segment_id: int | None) -> tuple[PeopleFilter, str]:
    """The filter asked for and the order it comes with: a saved segment's, or conditions and q."""
    if segment_id is None:
        return PeopleFilter(_conditions(conditions), q.strip()), "name"
    if conditions.strip() or q.strip():
        raise ApiError(422, "validation_error", "Ask for a segment, or for conditions and q: not both.")
    segment = segment_get(hub=token.hub, segment_id=segment_id)
    if segment is None:
        raise ApiError(404, "not_found", "No such segment at this hub.")
    return segment_filter(segment), segment.order or "name"


def _person_out(row: CustomerRow, *, with_balance: bool) -> PersonOut:
    person = row.customer
    return PersonOut(
        id=person.id, name=person.full_name, first_name=person.first_name, last_name=person.last_name,
        email=person.email, phone=person.phone, status=row.status, source=person.source, tags=row.tags,
        created_at=person.created_at, last_purchase_at=row.last_order_at, order_count=row.orders_completed,
        total_purchases=row.spent_minor, balance=row.balance_minor if with_balance else None,
        marketing_consent=person.marketing_consent,
    )  # fmt: skip


@router.get("/people", response={200: PeoplePage, **ERRORS}, tags=["people"])
def people_list(
    request: HttpRequest,
    conditions: str = Query(
        "", max_length=4000, description='A JSON list of conditions, e.g. [{"kind": "tags_any", "value": "veg box"}, '
        '{"kind": "last_within", "value": 8}]: combined with "and", or with "or" in a group (`join`)',
    ),
    q: str = Query("", max_length=100, description="Words to find in the name, email, phone or code"),
    segment: int | None = Query(None, ge=1, le=MAX_ID, description="A saved segment's id, instead of conditions"),
    order: str = Query("", max_length=24, description="A column, `-` first to sort down: name, -spent, balance…"),
    cursor: str | None = Cursor,
) -> Status[Any]:  # fmt: skip
    """The hub's people that match, as the people list shows them, `PAGE` at a time."""
    token = token_scoped(request, Scope.CRM_READ)
    people, default_order = _people_filter(token, conditions, q, segment)
    with_balance = _may_read_money(token)
    if order and order not in sort_options():
        raise ApiError(422, "validation_error", f"Sort by one of: {', '.join(sorted(sort_options()))}.")
    if not with_balance:
        if order in MONEY_ORDERS or any(c.kind in MONEY_KINDS for c in people.conditions):
            raise ApiError(403, "forbidden", "Balances are read with the scope accounts:read.")
        default_order = "name" if default_order in MONEY_ORDERS else default_order
    order = order or default_order
    matching = people_matching(hub=token.hub, people=people)
    sorted_people = people_sorted(matching, hub=token.hub, order=order, few=bool(search_words(people.query)))
    page = keyset_page(sorted_people.prefetch_related("tags"), cursor=cursor, size=PAGE, shape=f"people {order}")
    unit = credit_unit_of(hub=token.hub)
    return Status(200, {
        "items": [_person_out(row, with_balance=with_balance) for row in customer_rows(hub=token.hub,
                                                                                       customers=page.rows)],
        "count": matching.count(), "unit": unit.code, "decimals": unit.decimals, "next_cursor": page.next_cursor,
    })  # fmt: skip


# --- segments -----------------------------------------------------------------------------------------


def _segment_out(token: ApiToken, segment: Segment) -> SegmentOut:
    try:
        people = segment_filter(segment)
    except DomainError:  # saved under rules that have changed since: shown, but not counted
        return SegmentOut(id=segment.id, name=segment.name, count=None, conditions=[], q="", order=segment.order)
    return SegmentOut(
        id=segment.id, name=segment.name, count=people_matching(hub=token.hub, people=people).count(),
        conditions=[ConditionOut(kind=c.kind, value=c.value, join=c.join) for c in people.conditions],
        q=people.query, order=segment.order,
    )  # fmt: skip


@router.get("/segments", response={200: SegmentPage, **ERRORS}, tags=["segments"])
def segments_list(request: HttpRequest, cursor: str | None = Cursor) -> Status[Any]:
    """The hub's saved segments by name, each with how many people it holds now."""
    token = token_scoped(request, Scope.CRM_READ)
    page = keyset_page(segment_list(hub=token.hub), cursor=cursor, size=PAGE, shape="segments")
    return Status(200, {"items": [_segment_out(token, s) for s in page.rows], "next_cursor": page.next_cursor})


# --- notes and tags on a person -----------------------------------------------------------------------


def _note_out(note: Note) -> NoteOut:
    return NoteOut(
        id=note.id, body=note.body, author=note.author.get_full_name() or note.author.email if note.author else None,
        pinned=note.pinned, follow_up_on=note.follow_up_on, follow_up_done_at=note.follow_up_done_at,
        created_at=note.created_at, updated_at=note.updated_at,
    )  # fmt: skip


@router.get("/people/{person_id}/notes", response={200: NotePage, **ERRORS}, tags=["notes"])
def notes_list(request: HttpRequest, person_id: ObjectId, cursor: str | None = Cursor) -> Status[Any]:
    """What crew wrote about the person: pinned notes first, then the newest."""
    token = token_scoped(request, Scope.CRM_READ)
    notes = notes_of(hub=token.hub, customer=_person(token, person_id))
    page = keyset_page(notes, cursor=cursor, size=PAGE, shape="notes")
    return Status(200, {"items": [_note_out(n) for n in page.rows], "next_cursor": page.next_cursor})


@router.post("/people/{person_id}/notes", response={201: NoteOut, **ERRORS}, tags=["notes"])
def notes_create(request: HttpRequest, person_id: ObjectId, payload: NoteIn) -> Status[Any]:
    """Write a note, in the person's timeline, as the crew member who made the token."""
    author = _writer(request)  # refused before the Idempotency-Key is used up, as the docs say
    return _note_add(request, person_id, payload, author)


@idempotent
def _note_add(request: HttpRequest, person_id: int, payload: NoteIn, author: User) -> Status[Any]:
    token = request.auth  # type: ignore[attr-defined]
    note = note_add(
        hub=token.hub, customer=_person(token, person_id), author=author, body=payload.body, pinned=payload.pinned,
        follow_up_on=payload.follow_up_on,
    )  # fmt: skip
    return Status(201, _note_out(note))


@router.post("/people/{person_id}/tags", response={200: PersonOut, **ERRORS}, tags=["tags"])
def tags_post(request: HttpRequest, person_id: ObjectId, payload: TagsIn) -> Status[Any]:
    """Add and remove tags (at once, all or none); each tag that comes or goes is in the timeline.
    Answers the person as they are now."""
    actor = _writer(request)
    return _tags_change(request, person_id, payload, actor)


@idempotent
def _tags_change(request: HttpRequest, person_id: int, payload: TagsIn, actor: User) -> Status[Any]:
    token = request.auth  # type: ignore[attr-defined]
    person = _person(token, person_id)
    tags_change(hub=token.hub, customers=[person], add=payload.add, remove=payload.remove, actor=actor)
    row = customer_rows(hub=token.hub, customers=[person])[0]
    return Status(200, _person_out(row, with_balance=_may_read_money(token)))
