"""What people call the kinds of transaction, in their language."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hubtab.ledger.owners import OwnerKind, posting_owner

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


# What an order's postings are, by the step their key names (see ledger.owners).
ORDER_STEPS = {
    "refund": _("Refund of order #%(id)s"),
    "extra": _("Extra on order #%(id)s"),
    "collected": _("Paid at pickup for order #%(id)s"),
}
ORDER = _("Order #%(id)s")
REVERSAL_PREFIX, REVERSAL_SUFFIX = "Reversal of “", "”"


def posting_label(*, kind: str, key: str, memo: str) -> str:
    """What a posting was, in the reader's language, made when it is read: memos are stored in
    the words Hubtab writes them in (English), so a French reader sees French and an English
    reader English, whatever the hub's language. An order's postings are named from their key;
    words typed by crew (a reason, a reference sent over the API) are shown as typed."""
    owner = posting_owner(key)
    if owner is not None and owner.kind == OwnerKind.ORDER and owner.id is not None:
        step = key.split(":")[2] if key.count(":") >= 2 else ""
        return str(ORDER_STEPS.get(step, ORDER)) % {"id": owner.id}
    if kind == "reversal" and memo.startswith(REVERSAL_PREFIX) and memo.endswith(REVERSAL_SUFFIX):
        reversed_memo = memo[len(REVERSAL_PREFIX) : -len(REVERSAL_SUFFIX)]
        return gettext("Reversal of “%(what)s”") % {"what": _memo_words(reversed_memo)}
    return _memo_words(memo) or kind_label(kind)


def _memo_words(memo: str) -> str:
    """A stored memo in the reader's language where Hubtab wrote it ("Card top-up", "Cash: …")."""
    head, colon, rest = memo.partition(": ")
    if colon and gettext(head) != head:
        return f"{gettext(head)}: {rest}"
    return gettext(memo) if memo else ""
