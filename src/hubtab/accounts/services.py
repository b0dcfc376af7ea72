"""Customer credit, as the hub and its crew handle it. This module is the domain's face: callers
import from here; each topic lives in its own module (credit_settings, units, crew_credit,
recipes, paying, limits, organisations). Every change is a ledger posting with who and why, and
an audit row."""

from __future__ import annotations

from hubtab.accounts.credit_settings import SETTINGS_FIELDS, credit_settings_get, credit_settings_update
from hubtab.accounts.crew_credit import (
    ACTION_LABELS,
    EXTERNAL_METHODS,
    CreditAction,
    credit_apply,
    credit_apply_many,
    reversible_by_hand,
    transaction_correct,
)
from hubtab.accounts.limits import account_floor_change, account_rules_set
from hubtab.accounts.organisations import (
    organisation_charge,
    organisation_create,
    organisation_member_remove,
    organisation_member_set,
)
from hubtab.accounts.paying import (
    charge_post,
    charge_refund_post,
    order_hold_capture,
    order_hold_place,
    order_hold_void,
)
from hubtab.accounts.recipes import (
    posting_undo,
    purchase_legs,
    purchase_refund_legs,
    topup_credit_post,
    topup_refund_post,
)
from hubtab.accounts.units import bundle_archive, bundle_create, credit_unit_choose, unit_price_remove, unit_price_set

__all__ = [
    "ACTION_LABELS", "EXTERNAL_METHODS", "SETTINGS_FIELDS", "CreditAction", "account_floor_change",
    "account_rules_set", "bundle_archive", "bundle_create", "charge_post", "charge_refund_post", "credit_apply",
    "credit_apply_many", "credit_settings_get", "credit_settings_update", "credit_unit_choose",
    "order_hold_capture", "order_hold_place", "order_hold_void", "organisation_charge", "organisation_create",
    "organisation_member_remove", "organisation_member_set", "posting_undo", "purchase_legs",
    "purchase_refund_legs", "reversible_by_hand", "topup_credit_post", "topup_refund_post", "transaction_correct",
    "unit_price_remove", "unit_price_set",
]  # fmt: skip
