"""Importing people from a CSV file: the dry run's per-row report and applying it, all or nothing,
in a background task whose progress the page shows. Reading the file and mapping its columns is
`import_files`' work."""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.models.functions import Lower
from django.tasks import task
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from hubtab.accounts.selectors import credit_settings_of, credit_unit_of
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, Role, User
from hubtab.core.services import audit_record, membership_grant
from hubtab.crm import events
from hubtab.crm.import_files import (
    TEXT_FIELDS,
    CsvFile,
    Target,
    file_read,
    mapping_clean,
    mapping_guess,
    text_parse,
)
from hubtab.crm.import_plans import BATCH, Outcome, Plan, PlannedRow, plan_make
from hubtab.crm.models import ConsentSource, Customer, CustomerImport, ImportStatus, Source, Tag
from hubtab.ledger.services import accounts_open_many
from hubtab.ledger.types import AccountKind

logger = logging.getLogger(__name__)

# People are written this many at a time; the page's progress bar moves after each chunk.
CHUNK = 500


# --- selectors --------------------------------------------------------------------------------------------


def customer_import_get(*, hub: Hub, import_id: int) -> CustomerImport | None:
    return CustomerImport.objects.filter(hub=hub).filter(id=import_id).first()


def customer_imports_recent(*, hub: Hub, limit: int = 10) -> list[CustomerImport]:
    return list(
        CustomerImport.objects.filter(hub=hub)
        .defer("text", "report")
        .select_related("created_by")
        .order_by("-created_at", "-id")[:limit]
    )


# --- services ---------------------------------------------------------------------------------------------


def customer_import_create(*, hub: Hub, actor: User | None, filename: str, raw: bytes) -> CustomerImport:
    """Read an uploaded file, map its columns and run the dry run; nothing about people is written.
    A file that can't be imported at all (empty, binary, no email column...) is refused here."""
    csv_file = file_read(raw)
    mapping, recognised = mapping_guess(csv_file)
    if Target.EMAIL not in mapping:
        raise DomainError(
            "file_no_email_column",
            _("No column of this file holds email addresses (its columns: %(columns)s). Each person needs an "
              "email: add a column of them, or check that this is the right file.")
            % {"columns": ", ".join(header or "—" for header in csv_file.header)[:300]},
        )  # fmt: skip
    report = plan_make(hub, csv_file, mapping).report
    return CustomerImport.objects.create(
        hub=hub, created_by=actor, filename=filename[:255], text=csv_file.text,
        encoding=csv_file.encoding, delimiter=csv_file.delimiter, recognised=recognised, mapping=mapping,
        report=report, rows_total=len(csv_file.rows),
    )  # fmt: skip


def _csv_file_of(customer_import: CustomerImport) -> CsvFile:
    return text_parse(customer_import.text, encoding=customer_import.encoding, delimiter=customer_import.delimiter)


def customer_import_check(
    *, hub: Hub, customer_import: CustomerImport, mapping: list[str] | None = None
) -> CustomerImport:
    """Run the dry run again, with the crew's mapping if given (an import not applied, or failed)."""
    if customer_import.status not in (ImportStatus.CHECKED, ImportStatus.FAILED):
        raise DomainError("import_not_ready", _("This import has been applied already."))
    csv_file = _csv_file_of(customer_import)
    mapping = mapping_clean(customer_import.mapping if mapping is None else mapping, width=len(csv_file.header))
    report = plan_make(hub, csv_file, mapping).report
    still_open = CustomerImport.objects.filter(hub=hub).filter(
        id=customer_import.id, status__in=[ImportStatus.CHECKED, ImportStatus.FAILED]
    )
    if not still_open.update(mapping=mapping, report=report, status=ImportStatus.CHECKED, error=""):
        raise DomainError("import_not_ready", _("This import is being applied already."))
    customer_import.refresh_from_db()
    return customer_import


def customer_import_start(*, hub: Hub, customer_import: CustomerImport, actor: User | None) -> None:
    """Queue the import to be applied in the background; refused while its dry run shows errors."""
    if customer_import.status != ImportStatus.CHECKED:
        raise DomainError("import_not_ready", _("This import is being applied, or was applied already."))
    errors = customer_import.report.get("counts", {}).get(Outcome.ERROR, 0)
    if errors:
        raise DomainError(
            "import_has_errors",
            ngettext(
                "%(count)s row has a problem: fix the file (or the columns' fields) first; nothing was imported.",
                "%(count)s rows have problems: fix the file (or the columns' fields) first; nothing was imported.",
                errors,
            )
            % {"count": errors},
        )
    with transaction.atomic():
        claimed = (
            CustomerImport.objects.filter(hub=hub)
            .filter(id=customer_import.id, status=ImportStatus.CHECKED)
            .update(status=ImportStatus.APPLYING, applied_by=actor, started_at=timezone.now(), rows_done=0, error="")
        )
        if not claimed:
            raise DomainError("import_not_ready", _("This import is being applied, or was applied already."))
        # Queued in the same transaction (the task is a row of the database backend): both or neither.
        customer_import_run.enqueue(hub_id=hub.id, import_id=customer_import.id, actor_id=actor.id if actor else None)


def customer_import_apply(*, hub: Hub, customer_import: CustomerImport, actor: User | None) -> CustomerImport:
    """Apply the import, all or nothing: new people are created as leads (source "imported"), existing
    ones get the fields the file fills and differ, its tags added to theirs, and its consent; each
    changed record gets its lines in the timeline, and the audit trail one line for the import.
    The file is checked again against the people as they are now; any row with a problem refuses it all.

    People are written CHUNK at a time, a few statements per chunk (customer_create and
    customer_update cost some 25 statements per person: minutes for 10,000), with the same rows,
    accounts and timeline lines as those services write (test_import checks they agree)."""
    csv_file = _csv_file_of(customer_import)
    mapping = mapping_clean(customer_import.mapping, width=len(csv_file.header))
    with transaction.atomic():
        plan = plan_make(hub, csv_file, mapping, lock=True)
        errors = plan.report["counts"][Outcome.ERROR]
        if errors:
            raise DomainError(
                "import_has_errors",
                ngettext(
                    "%(count)s row has a problem (the file or the people changed since the check); nothing was "
                    "imported. Check it again.",
                    "%(count)s rows have problems (the file or the people changed since the check); nothing was "
                    "imported. Check it again.",
                    errors,
                )
                % {"count": errors},
            )
        adding = [row for row in plan.rows if row.outcome == Outcome.CREATE]
        changing = [row for row in plan.rows if row.outcome == Outcome.UPDATE]
        writer = _Writer(hub, customer_import.id, actor, tags={tag for row in adding + changing for tag in row.tags})
        progress = _Progress(customer_import)
        done = len(plan.rows) - len(adding) - len(changing)  # the unchanged need nothing
        try:
            for start in range(0, len(adding), CHUNK):
                writer.add(adding[start : start + CHUNK])
                done += len(adding[start : start + CHUNK])
                progress.write(done)
            for start in range(0, len(changing), CHUNK):
                writer.change(changing[start : start + CHUNK], plan)
                done += len(changing[start : start + CHUNK])
                progress.write(done)
        finally:
            progress.close()
        counts = plan.report["counts"]
        audit_record(
            hub=hub, actor=actor, action="customers.import",
            summary=gettext_noop(
                "Imported %(filename)s: %(created)s new, %(updated)s updated, %(unchanged)s unchanged"
            ),
            params={"filename": customer_import.filename, "created": counts[Outcome.CREATE],
                    "updated": counts[Outcome.UPDATE], "unchanged": counts[Outcome.UNCHANGED]},
            subject=customer_import,
            data={"import_id": customer_import.id, "rows": len(plan.rows), "new_tags": plan.report["new_tags"]},
        )  # fmt: skip
        customer_import.mapping = mapping
        customer_import.report = plan.report
        customer_import.status = ImportStatus.APPLIED
        customer_import.rows_total = customer_import.rows_done = len(plan.rows)
        customer_import.created_count = counts[Outcome.CREATE]
        customer_import.updated_count = counts[Outcome.UPDATE]
        customer_import.unchanged_count = counts[Outcome.UNCHANGED]
        customer_import.error = ""
        customer_import.finished_at = timezone.now()
        customer_import.save()
    return customer_import


class _Writer:
    """Writes an import's people a chunk at a time, inside the import's transaction: what
    customer_create, customer_update, tags_set and consent_set do for one person, for many."""

    def __init__(self, hub: Hub, import_id: int, actor: User | None, *, tags: set[str]) -> None:
        self.hub, self.import_id, self.actor = hub, import_id, actor
        self.at = timezone.now()
        self.unit = credit_unit_of(hub=hub).code
        self.floor_minor = credit_settings_of(hub=hub).default_floor_minor
        self.tag_ids = self._tags_ensure(sorted(tags))

    def _tags_ensure(self, names: list[str]) -> dict[str, int]:
        """The hub's tags of these names, the new ones created (as tags_set creates them)."""
        Tag.objects.bulk_create(
            [Tag(hub=self.hub, name=name) for name in names], batch_size=1000, ignore_conflicts=True
        )
        ids: dict[str, int] = {}
        for start in range(0, len(names), BATCH):
            ids.update(
                Tag.objects.filter(hub=self.hub).filter(name__in=names[start : start + BATCH]).values_list("name", "id")
            )
        return ids

    def _consent(self, person: Customer, given: bool) -> None:
        person.marketing_consent = given
        person.consent_changed_at = self.at
        person.consent_source = ConsentSource.IMPORT

    def _link_tags(self, tagged: list[tuple[Customer, str]]) -> None:
        link = Customer.tags.through
        link.objects.bulk_create(
            [link(customer_id=person.id, tag_id=self.tag_ids[tag]) for person, tag in tagged],
            batch_size=1000,
            ignore_conflicts=True,
        )

    def add(self, rows: list[PlannedRow]) -> None:
        people = [Customer(hub=self.hub, email=row.email, source=Source.IMPORTED, **row.values) for row in rows]
        for person, row in zip(people, rows, strict=True):
            person.search_text_refresh()
            if row.consent:
                self._consent(person, True)
        accounts = accounts_open_many(
            hub_id=self.hub.id, kind=AccountKind.CUSTOMER, unit=self.unit, floor_minor=self.floor_minor,
            names=[person.full_name for person in people],
        )  # fmt: skip
        for person, account in zip(people, accounts, strict=True):
            person.account = account
        Customer.objects.bulk_create(people, batch_size=1000)
        tagged = [(person, tag) for person, row in zip(people, rows, strict=True) for tag in row.tags]
        self._link_tags(tagged)
        self._verified_users_link(people)
        events.people_imported(
            import_id=self.import_id, added=people, changed=[], tagged=tagged,
            consent=[(person, True) for person, row in zip(people, rows, strict=True) if row.consent],
            at=self.at, actor=self.actor,
        )  # fmt: skip

    def change(self, rows: list[PlannedRow], plan: Plan) -> None:
        people, fields, tagged, consent = [], {"search_text"}, [], []
        for row in rows:
            person = plan.existing[row.email]
            person.hub = self.hub  # search_text_refresh reads the hub's region
            for name, (_before, after) in row.changes.items():
                if name in TEXT_FIELDS:
                    setattr(person, name, after)
                    fields.add(name)
            if "tags" in row.changes:
                before, after = row.changes["tags"]
                tagged += [(person, tag) for tag in after if tag not in before]
            if "consent" in row.changes and row.consent is not None:
                self._consent(person, row.consent)
                consent.append((person, row.consent))
                fields |= {"marketing_consent", "consent_changed_at", "consent_source"}
            person.search_text_refresh()
            people.append(person)
        Customer.objects.filter(hub=self.hub).bulk_update(people, sorted(fields), batch_size=500)
        self._link_tags(tagged)
        events.people_imported(
            import_id=self.import_id, added=[],
            changed=[(plan.existing[row.email], row.changes) for row in rows], tagged=tagged, consent=consent,
            at=self.at, actor=self.actor,
        )  # fmt: skip

    def _verified_users_link(self, people: list[Customer]) -> None:
        """As customer_create does: a new record whose email someone has proven is linked to their login."""
        from allauth.account.models import EmailAddress

        by_email = {person.email: person for person in people}
        proven = (
            EmailAddress.objects.filter(verified=True)
            .annotate(email_key=Lower("email"))
            .filter(email_key__in=list(by_email))
            .select_related("user")
        )
        for address in proven:
            person = by_email[address.email_key]  # type: ignore[attr-defined]
            if person.user_id is None:
                person.user = address.user
                person.save(update_fields=["user"])
                membership_grant(hub=self.hub, user=address.user, role=Role.CUSTOMER)


class _Progress:
    """rows_done, written beside the import's own transaction on a connection of its own, so the page
    sees it while that transaction is still open (PostgreSQL only: SQLite has one writer at a time,
    and its page shows the bar moving only at the end). It never waits for a lock, and a failure
    to write it never stops the import."""

    def __init__(self, customer_import: CustomerImport) -> None:
        self.hub_id, self.import_id = customer_import.hub_id, customer_import.id
        self.side = connections.create_connection(DEFAULT_DB_ALIAS) if connection.vendor == "postgresql" else None

    def write(self, done: int) -> None:
        if self.side is None:
            return
        try:
            with self.side.cursor() as cursor:
                cursor.execute(
                    "UPDATE crm_customerimport SET rows_done = %s WHERE id IN (SELECT id FROM crm_customerimport "
                    "WHERE hub_id = %s AND id = %s FOR UPDATE SKIP LOCKED)",
                    [done, self.hub_id, self.import_id],
                )
        except DatabaseError:
            logger.warning("import %s: could not write its progress", self.import_id, exc_info=True)
            self.close()

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None


@task()
def customer_import_run(*, hub_id: int, import_id: int, actor_id: int | None) -> dict[str, int]:
    """The background task: apply a queued import, or record why it failed (nothing written)."""
    hub = Hub.objects.get(id=hub_id)
    customer_import = CustomerImport.objects.filter(hub=hub).filter(id=import_id).first()
    if customer_import is None or customer_import.status != ImportStatus.APPLYING:
        return {"skipped": 1}  # a task run twice, or an import applied already
    actor = User.objects.filter(id=actor_id).first() if actor_id else None
    with translation.override(hub.locale):
        try:
            applied = customer_import_apply(hub=hub, customer_import=customer_import, actor=actor)
        except DomainError as exc:
            _failed(hub, import_id, exc.message)
            return {"failed": 1}
        except Exception:
            _failed(hub, import_id, _("Something went wrong while applying the import; nothing was changed."))
            raise
    return {"created": applied.created_count, "updated": applied.updated_count, "unchanged": applied.unchanged_count}


def _failed(hub: Hub, import_id: int, message: str) -> None:
    CustomerImport.objects.filter(hub=hub).filter(id=import_id).update(
        status=ImportStatus.FAILED, error=message, finished_at=timezone.now(), rows_done=0
    )
