"""The demo hubs' CRM, played through the CRM's services at the moments things happened: leads who
signed up at the shop, a mailing list imported from Mailchimp, people crew met at the market,
customers who stopped ordering (one of them archived), marketing consent, the crew's notes with
their follow-ups, and saved segments."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

from hubtab.accounts.selectors import topup_quote
from hubtab.accounts.services import CreditAction
from hubtab.core.models import Hub, User
from hubtab.core.services import user_create
from hubtab.crm.consent import consent_set
from hubtab.crm.filters import Condition, PeopleFilter
from hubtab.crm.imports import customer_import_apply, customer_import_create
from hubtab.crm.joining import customer_join
from hubtab.crm.models import ConsentSource, Customer, Source
from hubtab.crm.notes import note_add, note_follow_up_done
from hubtab.crm.segments import segment_save
from hubtab.crm.services import customer_archive, customer_charge, customer_create, customer_credit_apply
from hubtab.web.demo.data import (
    CONSENT_EVERY,
    CREW_LEADS,
    LAPSED,
    MAILCHIMP_IMPORT,
    NOTES,
    REGISTERED_LEADS,
    SEGMENTS,
    SHOP_SEGMENT,
)

# Mailchimp's audience export, as it names its columns (CONFIRM_TIME: when the person confirmed).
MAILCHIMP_HEADER = ["Email Address", "First Name", "Last Name", "MEMBER_RATING", "OPTIN_TIME", "CONFIRM_TIME",
                    "LAST_CHANGED", "LEID", "TAGS"]  # fmt: skip


@dataclass
class People:
    """The hub's people by what they are in the demo's story (data.NOTES names them so)."""

    customer: list[Customer]
    registered: list[Customer] = field(default_factory=list)
    crew: list[Customer] = field(default_factory=list)
    lapsed: list[Customer] = field(default_factory=list)


@contextmanager
def _at(moment: datetime) -> Iterator[None]:
    with time_machine.travel(moment, tick=False):
        yield


def _daytime(hub: Hub, now: datetime, days_ago: int, hour: int) -> datetime:
    """`days_ago` days before today at `hour` o'clock (and a few minutes), the hub's time: when crew work."""
    zone = ZoneInfo(hub.timezone)
    day = now.astimezone(zone).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, (17 * hour) % 60), tzinfo=zone)


def _email(first: str, last: str, hub: Hub) -> str:
    """first.last at the hub's own example domain, without accents."""
    local = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode().lower()
    return f"{local}@{hub.slug}.example.net"


def crm_seed(hub: Hub, customers: list[Customer], *, owner: User, crew: User, has_shop: bool) -> People:
    """The hub's leads, lapsed customers, consent, notes and segments, on top of its account holders
    (`customers`, in the order they were entered). `crew` writes the notes the support crew would."""
    now = timezone.now()
    people = People(customer=customers)
    _consent_on_joining(hub, customers, crew)
    people.lapsed = _lapsed_seed(hub, now, owner)
    for spec in REGISTERED_LEADS:
        with _at(now - timedelta(days=spec["days_ago"], hours=3)):
            # They made a login, confirmed their address, then joined the hub's shop.
            email = _email(spec["first"], spec["last"], hub)
            user = User.objects.filter(email=email).first() or user_create(
                email=email, password=None, email_verified=True, first_name=spec["first"], last_name=spec["last"]
            )
            people.registered.append(customer_join(hub=hub, user=user, marketing_consent=spec["consent"]).customer)
    for n, spec in enumerate(CREW_LEADS):
        with _at(_daytime(hub, now, spec["days_ago"], 10 + n)):
            lead = customer_create(
                hub=hub, email=_email(spec["first"], spec["last"], hub), first_name=spec["first"],
                last_name=spec["last"], phone=spec["phone"], tags=spec["tags"], source=Source.CREW, actor=crew,
            )  # fmt: skip
        people.crew.append(lead)
    _mailing_list_import(hub, customers, now, owner)
    _notes_seed(hub, people, now, owner=owner, crew=crew)
    with _at(_daytime(hub, now, 2, 9)):
        for name, conditions, columns, order in [*SEGMENTS, *([SHOP_SEGMENT] if has_shop else [])]:
            wanted = PeopleFilter(tuple(Condition(*condition) for condition in conditions))
            segment_save(hub=hub, actor=owner, name=name, people=wanted, columns=columns, order=order)
    return people


def _consent_on_joining(hub: Hub, customers: list[Customer], crew: User) -> None:
    """Some account holders ticked "send me news" on the paper form crew entered them from."""
    for index, customer in enumerate(customers):
        if index % CONSENT_EVERY == 1:
            consent_set(hub=hub, customer=customer, given=True, source=ConsentSource.CREW, actor=crew,
                        at=customer.created_at + timedelta(days=1))  # fmt: skip


def _lapsed_seed(hub: Hub, now: datetime, crew: User) -> list[Customer]:
    """Customers who ordered every week for a while, then stopped: each one's history played in
    time order (money paid in by standing order, weekly boxes paid from credit)."""

    def in_unit(cents: int) -> int:
        return topup_quote(hub=hub, currency=hub.currency, price_minor=cents).paid_minor

    lapsed = []
    for n, spec in enumerate(LAPSED):
        first_order = now - timedelta(weeks=spec["last_order_weeks_ago"] + spec["orders"] - 1, hours=n)
        with _at(first_order - timedelta(days=3)):
            person = customer_create(
                hub=hub, email=_email(spec["first"], spec["last"], hub), first_name=spec["first"],
                last_name=spec["last"], phone=f"+33 6 70 {n:02d} 18 {40 + n}", code=f"L{n + 1:03d}",
                tags=spec["tags"], actor=crew,
            )  # fmt: skip
            if spec.get("consent"):
                consent_set(hub=hub, customer=person, given=True, source=ConsentSource.CREW, actor=crew)
        balance = 0
        for week in range(spec["orders"]):
            at = first_order + timedelta(weeks=week)
            spend = in_unit(1500 + 250 * ((n + week) % 5))
            key = f"demo-{person.account_id}-lapsed-w{week}"
            if balance < spend:
                with _at(at - timedelta(hours=2)):
                    customer_credit_apply(
                        hub=hub, actor=crew, customer=person, action=CreditAction.EXTERNAL_PAYMENT,
                        amount_minor=5000, comment="Standing order", key=f"{key}-topup", method="bank_transfer",
                    )  # fmt: skip
                balance += topup_quote(hub=hub, currency=hub.currency, price_minor=5000).total_minor
            with _at(at):
                reference = "Veg box" if "veg box" in spec["tags"] else "Weekly order"
                customer_charge(hub=hub, customer=person, amount_minor=spend, reference=reference, description="",
                                key=f"{key}-order")  # fmt: skip
            balance -= spend
        if "archived" in spec:
            with _at(_daytime(hub, now, 7 * spec["archived"], 11)):
                customer_archive(hub=hub, customer=person, actor=crew)
        lapsed.append(person)
    return lapsed


def _mailing_list_import(hub: Hub, customers: list[Customer], now: datetime, owner: User) -> None:
    """The hub's Mailchimp list, imported through the import's dry run and applied, as crew do."""
    at = _daytime(hub, now, 7 * MAILCHIMP_IMPORT["weeks_ago"], 10)
    confirmed = (at - timedelta(days=200)).strftime("%Y-%m-%d %H:%M:%S")
    lines = io.StringIO()
    writer = csv.writer(lines, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(MAILCHIMP_HEADER)
    rows = [(_email(first, last, hub), first, last, tags) for first, last, tags in MAILCHIMP_IMPORT["new"]]
    on_the_list = [customers[index] for index in MAILCHIMP_IMPORT["customers"]]
    rows += [(c.email, c.first_name, c.last_name, "newsletter") for c in on_the_list]
    for n, (email, first, last, tags) in enumerate(rows):
        writer.writerow([email, first, last, 2 + n % 3, "", confirmed, confirmed, str(4100 + n), tags])
    with _at(at):
        checked = customer_import_create(
            hub=hub, actor=owner, filename=MAILCHIMP_IMPORT["filename"], raw=lines.getvalue().encode()
        )
    with _at(at + timedelta(minutes=4)):
        customer_import_apply(hub=hub, customer_import=checked, actor=owner)


def _notes_seed(hub: Hub, people: People, now: datetime, *, owner: User, crew: User) -> None:
    """The crew's notes, each written on its day; follow-ups due, upcoming and one done."""
    today = timezone.localdate(now, timezone=ZoneInfo(hub.timezone))
    for n, spec in enumerate(NOTES):
        group, index = spec["about"]
        person = getattr(people, group)[index]
        author = owner if spec["by"] == "owner" else crew
        follow_up = today + timedelta(days=spec["follow_up"]) if "follow_up" in spec else None
        written = _daytime(hub, now, spec["days_ago"], 9 + n % 8)
        with _at(written):
            note = note_add(hub=hub, customer=person, author=author, body=spec["body"],
                            pinned=spec.get("pinned", False), follow_up_on=follow_up)  # fmt: skip
        if spec.get("done"):
            with _at(written + timedelta(days=2)):
                note_follow_up_done(hub=hub, note=note, actor=author)
