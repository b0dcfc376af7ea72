"""The hub's unit of credit (its currency, or named credits), their prices and bundles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.credit_settings import credit_settings_get
from hubtab.accounts.models import (
    Bundle,
    CreditSettings,
    UnitPrice,
)
from hubtab.accounts.selectors import credit_unit_of, topup_quote
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import Unit, amount_check, currency_unit, money_format, reader_locale, unit_get
from hubtab.core.services import audit_money, audit_record, credit_unit_save
from hubtab.ledger import services as ledger

if TYPE_CHECKING:
    pass


def credit_unit_choose(*, hub: Hub, actor: User, code: str = "", name: str = "", decimals: int = 2) -> Unit:
    """Count the hub's credit in its currency (`code` "") or in a named unit ("TOKEN", "Tokens").
    The unit can change only while no customer's credit has moved; a named unit can always be
    renamed."""
    code = (code or "").strip().upper()
    if code == hub.currency:
        code = ""
    with transaction.atomic():
        settings = CreditSettings.objects.select_for_update().get(pk=credit_settings_get(hub=hub).pk)
        before = credit_unit_of(hub=hub)
        if code:
            credit_unit_save(hub=hub, code=code, name=name, decimals=decimals)
        after = unit_get(hub_id=hub.id, code=code) if code else currency_unit(hub.currency)
        if after == before:
            return after
        if after.code != before.code:
            ledger.accounts_unit_change(hub_id=hub.id, from_unit=before.code, to_unit=after.code)
            settings.unit_code = code
            settings.updated_at = timezone.now()
            settings.updated_by = actor
            settings.save(update_fields=["unit_code", "updated_at", "updated_by"])
        audit_record(
            hub=hub,
            actor=actor,
            action="credit_settings.unit",
            summary=gettext_noop("Credit now counts in %(name)s (%(code)s)"),
            params={"name": after.name, "code": after.code},
            subject=settings,
            data={"from": before.code, "to": after.code, "name": after.name, "decimals": after.decimals},
        )
    return after


def _named_unit(hub: Hub) -> Unit:
    unit = credit_unit_of(hub=hub)
    if unit.is_currency:
        raise DomainError(
            "validation_error", _("Credit here counts in %(unit)s: it needs no price.") % {"unit": unit.code}
        )
    return unit


def unit_price_set(*, hub: Hub, actor: User, currency: str, credits_minor: int, price_minor: int) -> UnitPrice:
    """Sell the hub's named credit in `currency`: `credits_minor` of it for `price_minor`."""
    unit = _named_unit(hub)
    currency_unit(currency)
    amount_check(credits_minor)
    amount_check(price_minor)
    with transaction.atomic():
        price, _created = UnitPrice.objects.update_or_create(
            hub=hub, unit_code=unit.code, currency=currency,
            defaults={"credits_minor": credits_minor, "price_minor": price_minor},
        )  # fmt: skip
        audit_record(
            hub=hub, actor=actor, action="credit_settings.price",
            summary=gettext_noop("Sells %(credits)s for %(price)s"),
            params={"credits": audit_money(credits_minor, unit.code), "price": audit_money(price_minor, currency)},
            subject=price, data={"currency": currency, "credits_minor": credits_minor, "price_minor": price_minor},
        )  # fmt: skip
    return price


def unit_price_remove(*, hub: Hub, actor: User, currency: str) -> None:
    unit = _named_unit(hub)
    with transaction.atomic():
        deleted, _rows = UnitPrice.objects.filter(hub=hub, unit_code=unit.code, currency=currency).delete()
        if deleted:
            audit_record(
                hub=hub, actor=actor, action="credit_settings.price_remove",
                summary=gettext_noop("%(unit)s are no longer sold in %(currency)s"), data={"currency": currency},
                params={"unit": unit.name, "currency": currency},
            )  # fmt: skip


def bundle_create(*, hub: Hub, actor: User, name: str, currency: str, price_minor: int, credits_minor: int) -> Bundle:
    """A "pay X, get Y" offer. Y must be worth more than X at the hub's price: the extra is the
    bonus, granted on top of the paid credit."""
    name = (name or "").strip()[:80]
    if not name:
        raise DomainError("validation_error", _("Give the bundle a name, e.g. “Family pack”."))
    unit = credit_unit_of(hub=hub)
    amount_check(price_minor)
    amount_check(credits_minor)
    worth = topup_quote(hub=hub, currency=currency, price_minor=price_minor).paid_minor
    if credits_minor <= worth:
        raise DomainError(
            "validation_error",
            _("A bundle gives more than the price buys on its own (%(worth)s).")
            % {"worth": money_format(worth, unit, reader_locale())},
        )
    try:
        with transaction.atomic():
            bundle = Bundle.objects.create(
                hub=hub, name=name, currency=currency, price_minor=price_minor, unit_code=unit.code,
                credits_minor=credits_minor,
            )  # fmt: skip
            audit_record(
                hub=hub, actor=actor, action="credit_settings.bundle", subject=bundle,
                summary=gettext_noop("Created the bundle %(name)s"), params={"name": name},
                data={"currency": currency, "price_minor": price_minor, "credits_minor": credits_minor},
            )  # fmt: skip
    except IntegrityError:
        raise DomainError("validation_error", _("Another bundle already has this price.")) from None
    return bundle


def bundle_archive(*, hub: Hub, actor: User, bundle_id: int) -> None:
    """Stop offering a bundle; credit bought with it is untouched."""
    with transaction.atomic():
        bundle = Bundle.objects.select_for_update().filter(hub=hub, id=bundle_id).first()
        if bundle is None:
            raise DomainError("not_found", _("That bundle does not exist."))
        if bundle.active:
            bundle.active = False
            bundle.save(update_fields=["active"])
            audit_record(hub=hub, actor=actor, action="credit_settings.bundle_archive",
                         summary=gettext_noop("Stopped the bundle %(name)s"), subject=bundle,
                         params={"name": bundle.name})  # fmt: skip
