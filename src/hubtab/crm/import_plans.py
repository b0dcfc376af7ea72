"""The dry run of an import: each row of the file read against the hub's people (create, update,
unchanged, or an error that stops the row), and the report the review page shows."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower

from hubtab.core.models import Hub
from hubtab.crm.import_files import MAX_LENGTH, TEXT_FIELDS, CsvFile, Target
from hubtab.crm.models import Customer, Tag
from hubtab.crm.tags import TAG_MAX

# Existing people are read in batches of this many emails: a few queries for the biggest file,
# never one per row, and well under any database's limit on a query's parameters.
BATCH = 5000
_YES = {"yes", "y", "true", "1", "oui", "o", "subscribed", "opted in", "opt in", "optin", "x"}
_NO = {"no", "n", "false", "0", "non", "unsubscribed", "not subscribed", "opted out", "opt out", "optout"}
# Words that say nothing about consent (Mailchimp's "cleaned" is a bounced address, "pending" an
# unconfirmed sign-up): the person's consent stays as it is.
_NEITHER = {"", "pending", "cleaned", "unknown", "-"}
# A number, signed or not, or a phone number: "-12.50" and "+33 6 12 34 56 78" are not formulas.
_NUMBER_LIKE = re.compile(r"[+-]?[\d\s().,/-]+")


class Outcome(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class PlannedRow:
    number: int
    email: str = ""
    values: dict[str, str] = field(default_factory=dict)  # the text fields the row fills
    tags: list[str] = field(default_factory=list)
    consent: bool | None = None
    problems: list[list[Any]] = field(default_factory=list)  # [code, params]: the row can't be imported
    warnings: list[list[Any]] = field(default_factory=list)  # [code, params]: imported, worth a look
    outcome: str = ""
    changes: dict[str, list[Any]] = field(default_factory=dict)  # {field: [before, after]}
    new_tags: list[str] = field(default_factory=list)


@dataclass
class Plan:
    rows: list[PlannedRow]
    existing: dict[str, Customer]  # by lower-cased email
    tags_of: dict[int, set[str]]  # existing people's tags
    report: dict[str, Any]


def _consent_of(text: str) -> bool | None:
    word = re.sub(r"[\s_-]+", " ", text.strip().lower())
    if word in _YES:
        return True
    if word in _NO:
        return False
    if word in _NEITHER:
        return None
    raise ValueError(text)


def _tags_in(cell: str) -> list[str]:
    """Tags separated by commas; Mailchimp quotes each one ("Customer","VIP")."""
    return [tag.strip() for tag in next(csv.reader([cell], skipinitialspace=True), []) if tag.strip()]


def _is_formula(text: str) -> bool:
    return text[:1] in ("=", "@") or (text[:1] in ("+", "-") and not _NUMBER_LIKE.fullmatch(text))


def _row_read(number: int, cells: list[str], mapping: list[str]) -> PlannedRow:
    row = PlannedRow(number=number)
    found: dict[str, list[str]] = {}
    for column, target in enumerate(mapping):
        if target:
            found.setdefault(target, []).append(cells[column].strip() if column < len(cells) else "")
    if any(cell.strip() for cell in cells[len(mapping) :]):
        row.problems.append(["too_many_cells", {"cells": len(cells), "columns": len(mapping)}])

    raw_email = found.get(Target.EMAIL, [""])[0]
    row.email = raw_email.lower()
    if not row.email:
        row.problems.append(["missing_email", {}])
    else:
        try:
            validate_email(row.email)
            if len(row.email) > MAX_LENGTH[Target.EMAIL]:
                raise ValidationError("too long")
        except ValidationError:
            row.problems.append(["bad_email", {"email": raw_email[:120]}])

    for target in TEXT_FIELDS:
        parts = [part for part in found.get(target, []) if part]
        value = ", ".join(parts) if target == Target.ADDRESS else (parts[0] if parts else "")
        if not value:
            continue
        row.values[str(target)] = value
        if target in MAX_LENGTH and len(value) > MAX_LENGTH[target]:
            row.problems.append(["too_long", {"field": str(target), "max": MAX_LENGTH[target]}])
        if _is_formula(value):
            row.warnings.append(["formula", {"field": str(target), "char": value[0]}])

    tags: list[str] = []
    for cell in found.get(Target.TAGS, []):
        tags += _tags_in(cell)
    for tag in tags:
        if len(tag) > TAG_MAX:
            row.problems.append(["tag_too_long", {"tag": tag[:60], "max": TAG_MAX}])
        elif _is_formula(tag):
            row.warnings.append(["formula", {"field": "tags", "char": tag[0]}])
    row.tags = sorted(set(tags))

    said = found.get(Target.CONSENT, [""])[0]
    try:
        row.consent = _consent_of(said)
    except ValueError:
        row.problems.append(["bad_consent", {"value": said[:60]}])
    if row.consent is None and not said:
        if any(found.get(Target.UNSUBSCRIBED_DATE, [])):
            row.consent = False
        elif any(found.get(Target.CONSENT_DATE, [])):
            row.consent = True
    return row


def _existing_people(hub: Hub, emails: list[str], *, lock: bool) -> dict[str, Customer]:
    """The hub's people with these emails (any case), by lower-cased email: one query per BATCH."""
    found: dict[str, Customer] = {}
    for start in range(0, len(emails), BATCH):
        people = (
            Customer.objects.filter(hub=hub)
            .annotate(email_key=Lower("email"))
            .filter(email_key__in=emails[start : start + BATCH])
        )
        for person in people:
            found[person.email_key] = person  # type: ignore[attr-defined]
    if lock and found:
        # Locked in id order, like every change of many people (customers_status_set, tags_change).
        ids = sorted(person.id for person in found.values())
        for start in range(0, len(ids), BATCH):
            list(
                Customer.objects.filter(hub=hub)
                .filter(id__in=ids[start : start + BATCH])
                .select_for_update()
                .order_by("id")
                .values_list("id", flat=True)
            )
    return found


def _tags_of(hub: Hub, people: Iterable[Customer], names: dict[int, str]) -> dict[int, set[str]]:
    ids = sorted(person.id for person in people)
    tags_of: dict[int, set[str]] = {person_id: set() for person_id in ids}
    link = Customer.tags.through
    for start in range(0, len(ids), BATCH):
        for customer_id, tag_id in link.objects.filter(customer_id__in=ids[start : start + BATCH]).values_list(
            "customer_id", "tag_id"
        ):
            tags_of[customer_id].add(names[tag_id])
    return tags_of


def plan_make(hub: Hub, csv_file: CsvFile, mapping: list[str], *, lock: bool = False) -> Plan:
    """What importing the file would do to each person, read in a few queries whatever its size."""
    rows = [_row_read(number, cells, mapping) for number, cells in csv_file.rows]
    first_seen: dict[str, int] = {}
    for row in rows:
        if row.email and not any(code == "bad_email" for code, _params in row.problems):
            if row.email in first_seen:
                row.problems.append(["duplicate", {"row": first_seen[row.email]}])
            else:
                first_seen[row.email] = row.number

    existing = _existing_people(hub, sorted(first_seen), lock=lock)
    tag_names = dict(Tag.objects.filter(hub=hub).values_list("id", "name"))
    hub_tags = set(tag_names.values())
    tags_of = _tags_of(hub, existing.values(), tag_names)
    new_tags: set[str] = set()

    for row in rows:
        person = existing.get(row.email)
        if row.problems:
            row.outcome = Outcome.ERROR
            continue
        row.new_tags = sorted(set(row.tags) - hub_tags)
        new_tags.update(row.new_tags)
        if person is None:
            row.outcome = Outcome.CREATE
            row.changes = {name: ["", value] for name, value in row.values.items()}
            if row.tags:
                row.changes["tags"] = [[], row.tags]
            if row.consent:
                row.changes["consent"] = [False, True]
            continue
        for name, value in row.values.items():
            if value != getattr(person, name):
                row.changes[name] = [getattr(person, name), value]
        had = tags_of[person.id]
        if set(row.tags) - had:
            row.changes["tags"] = [sorted(had), sorted(had | set(row.tags))]
        if row.consent is not None and row.consent != person.marketing_consent:
            row.changes["consent"] = [person.marketing_consent, row.consent]
        if person.archived_at is not None:
            row.warnings.append(["archived", {}])
        row.outcome = Outcome.UPDATE if row.changes else Outcome.UNCHANGED

    counts = {outcome.value: 0 for outcome in Outcome}
    for row in rows:
        counts[row.outcome] += 1
    counts["warning"] = sum(1 for row in rows if row.warnings)
    report = {
        "counts": counts,
        "new_tags": sorted(new_tags),
        "blank_rows": csv_file.blank_rows,
        "columns": [
            {"header": header, "samples": _samples(csv_file, column)} for column, header in enumerate(csv_file.header)
        ],
        "rows": [
            {"row": row.number, "email": row.email, "outcome": row.outcome, "changes": row.changes,
             "new_tags": row.new_tags, "problems": row.problems, "warnings": row.warnings}
            for row in rows
        ],
    }  # fmt: skip
    return Plan(rows=rows, existing=existing, tags_of=tags_of, report=report)


def _samples(csv_file: CsvFile, column: int, count: int = 3) -> list[str]:
    samples: list[str] = []
    for _number, cells in csv_file.rows:
        if column < len(cells) and cells[column].strip():
            samples.append(cells[column].strip()[:60])
            if len(samples) == count:
                break
    return samples


def report_rows(report: dict[str, Any], show: str) -> Iterator[dict[str, Any]]:
    """The report's rows to show: "problems" (errors and warnings), one outcome, or all."""
    for row in report.get("rows", []):
        if show == "problems":
            if row["problems"] or row["warnings"]:
                yield row
        elif not show or row["outcome"] == show:
            yield row
