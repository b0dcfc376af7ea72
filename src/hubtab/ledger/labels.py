"""What people call the kinds of transaction, in their language."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

KIND_LABELS = {
    "top_up": _("Top-up"),
    "charge": _("Order"),
    "hold_capture": _("Order paid"),
    "order_refund": _("Order refund"),
    "grant": _("Credit granted"),
    "reversal": _("Correction"),
    "lot_expiry": _("Credit expired"),
    "transfer": _("Transfer"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind.replace("_", " ").capitalize()))
