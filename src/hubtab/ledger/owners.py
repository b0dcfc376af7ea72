"""Which order, payment or refund a posting belongs to, read from the key it was posted under.

Services above the ledger post under keys of the form `<owner>:<id>[:<step>]` (`order:18:capture`,
`payment:7`, `refund:3`). A transaction's key is stored once and never changes, so it is the
posting's lasting link to its owner, without the ledger knowing orders or payments. A posting
with an owner is undone only through that owner (refund the order, refund the payment), so that
the owner's record and the money can never disagree and nothing is given back twice.
"""

from __future__ import annotations

from dataclasses import dataclass


class OwnerKind:
    ORDER = "order"
    PAYMENT = "payment"
    CARD_REFUND = "refund"


# Key prefixes and the owner they name. `order-refund:` is the older key of an order's refund
# (it carried the form's key, not the order's id).
_PREFIXES = {
    "order:": OwnerKind.ORDER,
    "order-refund:": OwnerKind.ORDER,
    "payment:": OwnerKind.PAYMENT,
    "refund:": OwnerKind.CARD_REFUND,
    "refund-refused:": OwnerKind.CARD_REFUND,
}


@dataclass(frozen=True)
class Owner:
    kind: str
    id: int | None  # None where an older key did not carry it


def posting_owner(key: str) -> Owner | None:
    """The order, payment or card refund that posted under `key`, or None for a posting made by
    hand, by the API or by the ledger itself."""
    for prefix, kind in _PREFIXES.items():
        if key.startswith(prefix):
            head = key[len(prefix) :].split(":", 1)[0]
            return Owner(kind, int(head) if head.isdigit() and prefix != "order-refund:" else None)
    return None
