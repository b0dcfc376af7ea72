"""Writes for customer records. A customer gets a credit account at the hub when created."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from hubtab.accounts.selectors import credit_settings_of, credit_unit_of
from hubtab.accounts.services import (
    CreditAction,
    charge_post,
    credit_apply,
    credit_apply_many,
    order_hold_capture,
    transaction_correct,
)
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, Role, User
from hubtab.core.services import audit_money, audit_record, membership_grant
from hubtab.crm import events
from hubtab.crm.models import Customer, Source
from hubtab.crm.selectors import customers_by_account, customers_in_use
from hubtab.crm.tags import tags_change as tags_change  # the list's bulk action calls it here
from hubtab.crm.tags import tags_set
from hubtab.ledger import selectors as ledger_selectors
from hubtab.ledger import services as ledger
from hubtab.ledger.types import AccountKind, HoldResult, Posted

EDITABLE = ("email", "first_name", "last_name", "phone", "address", "code")


def _clean_email(email: object) -> str:
    if not isinstance(email, str):
        raise DomainError("validation_error", "An email address is required.")
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError("validation_error", f"{email!r} is not a valid email address.") from exc
    return email


def _email_taken(hub: Hub, email: str, exclude_id: int | None = None) -> bool:
    others = Customer.objects.filter(hub=hub).filter(email__iexact=email)
    if exclude_id is not None:
        others = others.exclude(id=exclude_id)
    return others.exists()


def customer_create(
    *,
    hub: Hub,
    email: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    address: str = "",
    code: str = "",
    tags: Iterable[str] = (),
    source: str = Source.CREW,
    actor: User | None = None,
    floor_minor: int | None = None,
    audit: bool = True,
) -> Customer:
    """A person's record at the hub, with their credit account (the hub's spending limit, or
    `floor_minor`). `audit=False`: the caller writes its own line in the audit trail."""
    email = _clean_email(email)
    if _email_taken(hub, email):
        raise DomainError("customer_exists", f"A customer with the email {email} already exists at this hub.")
    with transaction.atomic():
        customer = Customer(
            hub=hub,
            email=email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            phone=phone.strip(),
            address=address.strip(),
            code=code.strip(),
            source=Source(source),
        )
        customer.search_text_refresh()
        customer.account = ledger.account_open(
            hub_id=hub.id,
            kind=AccountKind.CUSTOMER,
            unit=credit_unit_of(hub=hub).code,
            name=customer.full_name,
            floor_minor=credit_settings_of(hub=hub).default_floor_minor if floor_minor is None else floor_minor,
        )
        customer.save()
        tags_set(hub=hub, customer=customer, names=tags, actor=actor)
        _link_to_verified_user(customer)
        events.customer_added(customer=customer, actor=actor)
        if actor is not None and audit:
            audit_record(
                hub=hub,
                actor=actor,
                action="customer.create",
                summary=gettext_noop("Created the record"),
                subject=customer,
            )
    return customer


def _link_to_verified_user(customer: Customer) -> None:
    """Link the record to the login whose proven address is the record's email, if there is one."""
    from allauth.account.models import EmailAddress

    address = EmailAddress.objects.filter(email__iexact=customer.email, verified=True).select_related("user").first()
    if address is not None and customer.user_id is None:
        customer.user = address.user
        customer.save(update_fields=["user"])
        membership_grant(hub=customer.hub, user=address.user, role=Role.CUSTOMER)


def customer_records_link(*, user: User, email: str) -> list[Customer]:
    """After `user` proved they own `email`: link every unlinked record with that email, at every hub,
    and make them a customer there, so their portal shows those accounts."""
    linked = []
    with transaction.atomic():
        # The person's records at every hub: proving the address links them all.
        records = Customer.objects.across_hubs().filter(email__iexact=email, user__isnull=True)
        for customer in records.select_related("hub").select_for_update(of=("self",)):
            customer.user = user
            customer.save(update_fields=["user"])
            membership_grant(hub=customer.hub, user=user, role=Role.CUSTOMER)
            linked.append(customer)
    return linked


def customer_update(
    *, hub: Hub, customer: Customer, tags: Iterable[str] | None = None, actor: User | None = None, **fields: str
) -> Customer:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise DomainError("validation_error", f"Unknown fields: {', '.join(sorted(unknown))}.")
    if "email" in fields:
        fields["email"] = _clean_email(fields["email"])
        if _email_taken(hub, fields["email"], exclude_id=customer.id):
            raise DomainError("customer_exists", f"A customer with the email {fields['email']} already exists.")
    with transaction.atomic():
        before = {name: getattr(customer, name) for name in fields}
        tags_before = sorted(t.name for t in customer.tags.all()) if tags is not None else None
        for name, value in fields.items():
            setattr(customer, name, value.strip())
        customer.search_text_refresh()
        customer.save()
        changes = {
            name: [before[name], getattr(customer, name)] for name in fields if before[name] != getattr(customer, name)
        }
        if tags is not None:
            tags_set(hub=hub, customer=customer, names=tags, actor=actor)
            tags_after = sorted(t.name for t in customer.tags.all())
            if tags_after != tags_before:
                changes["tags"] = [tags_before, tags_after]
        if actor is not None and changes:
            audit_record(
                hub=hub,
                actor=actor,
                action="customer.update",
                summary=gettext_noop("Changed %(fields)s"),
                params={"fields": ", ".join(name.replace("_", " ") for name in changes)},
                subject=customer,
                data=changes,
            )
    return customer


def customer_archive(*, hub: Hub, customer: Customer, actor: User | None = None) -> Customer:
    with transaction.atomic():
        if customer.archived_at is None:
            customer.archived_at = timezone.now()
            customer.save(update_fields=["archived_at"])
            events.customer_archived(customer=customer, actor=actor)
        if actor is not None:
            audit_record(
                hub=hub,
                actor=actor,
                action="customer.archive",
                summary=gettext_noop("Archived the record"),
                subject=customer,
            )
    return customer


def customer_unarchive(*, hub: Hub, customer: Customer, actor: User | None = None) -> Customer:
    with transaction.atomic():
        if customer.archived_at is not None:
            customer.archived_at = None
            customer.save(update_fields=["archived_at"])
            events.customer_restored(customer=customer, actor=actor)
        if actor is not None:
            audit_record(
                hub=hub,
                actor=actor,
                action="customer.restore",
                summary=gettext_noop("Restored the record"),
                subject=customer,
            )
    return customer


def customer_delete(*, hub: Hub, customer: Customer) -> None:
    """Delete a record that never held anything; anyone with a balance or history is archived instead."""
    state = ledger_selectors.account_state(hub_id=hub.id, account_id=customer.account_id)
    if state.balance_minor != 0 or state.held_minor != 0:
        raise DomainError("customer_has_balance", "A customer with a balance can't be deleted, only archived.")
    if ledger_selectors.account_has_history(hub_id=hub.id, account_id=customer.account_id):
        raise DomainError("customer_has_history", "A customer with account history can't be deleted, only archived.")
    with transaction.atomic():
        account_id = customer.account_id
        customer.tags.clear()
        customer.delete()
        ledger.account_close(hub_id=hub.id, account_id=account_id)


def customers_floor_apply(*, hub: Hub, actor: User, tag: str = "") -> int:
    """Set the hub's saved spending limit on every customer in use, or on those with `tag`.
    Returns how many accounts changed."""
    floor_minor = credit_settings_of(hub=hub).default_floor_minor
    customers = Customer.objects.filter(hub=hub).filter(archived_at__isnull=True)
    if tag:
        customers = customers.filter(tags__name=tag)
    account_ids = list(
        customers.exclude(account__floor_minor=floor_minor).values_list("account_id", flat=True).order_by("account_id")
    )
    with transaction.atomic():
        for account_id in account_ids:
            ledger.account_floor_set(hub_id=hub.id, account_id=account_id, floor_minor=floor_minor)
        audit_record(
            hub=hub,
            actor=actor,
            action="customers.floor_apply",
            summary=gettext_noop("Applied the spending limit (%(limit)s) to %(count)s customers tagged %(tag)s")
            if tag
            else gettext_noop("Applied the spending limit (%(limit)s) to %(count)s customers"),
            params={
                "limit": audit_money(floor_minor, credit_unit_of(hub=hub).code),
                "count": len(account_ids),
                "tag": tag,
            },
            data={"floor_minor": floor_minor, "tag": tag, "accounts": len(account_ids)},
        )
    return len(account_ids)


# --- the crew's credit actions on a person's account, each also written in their activity -----------


def customer_credit_apply(*, hub: Hub, actor: User | None, customer: Customer, **fields: Any) -> Posted:
    """accounts.credit_apply on the customer's account, and its line in their activity, together."""
    with transaction.atomic():
        posted = credit_apply(hub=hub, actor=actor, account_id=customer.account_id, **fields)
        _credit_event(customer, posted, actor, fields)
    return posted


def customers_credit_apply(
    *, hub: Hub, actor: User, tag: str = "", ids: list[int] | None = None, **fields: Any
) -> list[Posted]:
    """The same credit for every customer in use, every one with `tag`, or every one of `ids` (a
    selection; archived people and another hub's ids are left out): all or none."""
    with transaction.atomic():
        customers = list(customers_in_use(hub=hub, tag=tag, ids=ids).order_by("account_id"))
        posted = credit_apply_many(hub=hub, actor=actor, account_ids=[c.account_id for c in customers], **fields)
        for customer, one in zip(customers, posted, strict=True):
            _credit_event(customer, one, actor, fields)
    return posted


def _credit_event(customer: Customer, posted: Posted, actor: User | None, fields: dict[str, Any]) -> None:
    amount_minor, comment, action = fields["amount_minor"], fields["comment"].strip(), fields["action"]
    if action == CreditAction.REMOVE:
        events.credit_removed(customer=customer, transaction_id=posted.transaction_id, amount_minor=amount_minor,
                              unit=customer.account.unit, comment=comment, actor=actor)  # fmt: skip
        return
    method = fields.get("method", "") if action == CreditAction.EXTERNAL_PAYMENT else ""
    events.credit_added(
        customer=customer, transaction_id=posted.transaction_id, amount_minor=amount_minor,
        unit=customer.hub.currency if method else customer.account.unit, action=action, comment=comment,
        actor=actor, method=method,
    )  # fmt: skip


def customer_transaction_correct(
    *, hub: Hub, actor: User, customer: Customer, transaction_id: int, reason: str, key: str
) -> Posted:
    """accounts.transaction_correct of an entry in the customer's history, and its activity line."""
    with transaction.atomic():
        posted = transaction_correct(hub=hub, actor=actor, transaction_id=transaction_id, reason=reason, key=key)
        events.entry_reversed(customer=customer, transaction_id=transaction_id, reversal_id=posted.transaction_id,
                              reason=reason.strip(), actor=actor)  # fmt: skip
    return posted


def customer_charge(
    *, hub: Hub, customer: Customer, amount_minor: int, reference: str, description: str, key: str,
    actor: User | None = None,
) -> Posted:  # fmt: skip
    """An order of another shop (over the API) paid from the customer's credit: a purchase in
    their figures, like an order of Hubtab's own shop."""
    with transaction.atomic():
        posted = charge_post(hub=hub, account_id=customer.account_id, amount_minor=amount_minor, reference=reference,
                             description=description, key=key, actor=actor)  # fmt: skip
        events.charged(customer=customer, transaction_id=posted.transaction_id, amount_minor=amount_minor,
                       unit=customer.account.unit, reference=reference.strip(), actor=actor)  # fmt: skip
    return posted


def customer_hold_capture(
    *, hub: Hub, hold_id: int, key: str, amount_minor: int | None = None, actor: User | None = None
) -> HoldResult:
    """Capture an order's hold (over the API): what is taken is a purchase in the customer's figures."""
    with transaction.atomic():
        result = order_hold_capture(hub=hub, hold_id=hold_id, key=key, amount_minor=amount_minor, actor=actor)
        hold = ledger_selectors.hold_get(hub_id=hub.id, hold_id=hold_id)
        customer = customers_by_account(hub=hub, account_ids=[hold.account_id]).get(hold.account_id)
        if customer is not None and result.transaction_id is not None and hold.captured_minor:
            events.charged(customer=customer, transaction_id=result.transaction_id, amount_minor=hold.captured_minor,
                           unit=hold.unit, reference=hold.reference, actor=actor)  # fmt: skip
    return result


def customers_status_set(
    *, hub: Hub, customers: QuerySet[Customer], archived: bool, actor: User, selection: str = ""
) -> int:
    """Archive (or restore) many people at once, all or none: each timeline records it, and the
    audit trail records the change once, with the selection it was made on. Returns how many changed."""
    with transaction.atomic():
        chosen = Customer.objects.filter(hub=hub).filter(id__in=customers.order_by().values("id"))
        changing = list(chosen.filter(archived_at__isnull=archived).select_for_update().order_by("id"))
        for customer in changing:
            customer.archived_at = timezone.now() if archived else None
            customer.save(update_fields=["archived_at"])
            if archived:
                events.customer_archived(customer=customer, actor=actor)
            else:
                events.customer_restored(customer=customer, actor=actor)
        summary = gettext_noop("Archived %(count)s people") if archived else gettext_noop("Restored %(count)s people")
        audit_record(
            hub=hub, actor=actor, action="customers.archive" if archived else "customers.restore", summary=summary,
            params={"count": len(changing)}, data={"ids": [c.id for c in changing][:5000], "selection": selection},
        )  # fmt: skip
    return len(changing)
