"""The API's request and response bodies. Amounts are whole numbers of minor units: a float, a
string or a bool is refused (StrictInt), as is anything beyond 10^12."""

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Path, Schema
from pydantic import BeforeValidator, Field, StrictInt

MAX = 10**12
Amount = Annotated[
    StrictInt,
    Field(gt=0, le=MAX, description="In the account's minor units (its `decimals`): with 2 decimals 1250 is 12.50; "
          "in whole credits 12 is 12 credits"),
]  # fmt: skip
Text = Annotated[str, Field(max_length=500)]
MAX_ID = 2**63 - 1  # ids are PostgreSQL bigints
# A path id outside PostgreSQL's bigint range is refused by validation (422), before any query.
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
PAGE = 50  # rows in one page of a list


class ErrorBody(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    error: ErrorBody


ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class CustomerIn(Schema):
    email: Annotated[str, Field(max_length=254)]
    first_name: Annotated[str, Field(max_length=100)] = ""
    last_name: Annotated[str, Field(max_length=100)] = ""
    tags: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=20)] = []


class CustomerOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    phone: str
    code: str
    tags: list[str]
    archived: bool
    created_at: datetime


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


class AccountOut(Schema):
    unit: str
    decimals: int = Field(description="How many decimals the unit has: amounts are whole numbers of its minor units")
    balance: int
    held: int
    floor: int | None
    spendable: int | None = Field(description="balance - held - floor")


class FloorIn(Schema):
    floor: Annotated[StrictInt, Field(le=0, ge=-MAX, description="0 or negative: the most debt allowed")]


class EntryOut(Schema):
    id: int
    transaction_id: int
    kind: str
    memo: str
    amount: int
    balance_after: int
    lot_kind: str | None
    posted_at: datetime


class EntryPage(Schema):
    items: list[EntryOut]
    next_cursor: str | None


class CreditIn(Schema):
    amount: Amount
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    kind: Literal["paid", "granted"] = "paid"
    expires_at: datetime | None = None


class DebitIn(Schema):
    amount: Amount
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class ChargeIn(Schema):
    amount: Amount
    reference: Annotated[str, Field(min_length=1, max_length=200)]
    description: Text = ""


class PostedOut(Schema):
    transaction_id: int
    account: AccountOut


class HoldIn(Schema):
    amount: Amount
    reference: Annotated[str, Field(min_length=1, max_length=200)]
    expires_at: datetime | None = None


class CaptureIn(Schema):
    amount: Annotated[StrictInt, Field(ge=0, le=MAX)] | None = None


class HoldOut(Schema):
    id: int
    status: str
    amount: int
    captured: int | None
    reference: str
    expires_at: datetime | None


# --- the CRM: people, segments, notes, tags -----------------------------------------------------------

TagName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^,]*$", description="No commas")]


class ConditionIn(Schema):
    """One condition of a people filter, as crm.filters keeps it: amounts in minor units, dates as
    ISO dates, tags as a list or separated by commas."""

    kind: Annotated[str, Field(max_length=40)]
    value: Annotated[str, Field(max_length=200)] | StrictInt | Annotated[list[TagName], Field(max_length=20)] = ""
    join: Literal["and", "or"] = "and"


class ConditionOut(Schema):
    kind: str
    value: str
    join: str


class PersonOut(Schema):
    id: int = Field(description="The same id as the customer's in /customers")
    name: str = Field(description="First and last name, or the email when there is no name")
    first_name: str
    last_name: str
    email: str
    phone: str
    status: str = Field(description="lead, customer, lapsed or archived")
    source: str
    tags: list[str]
    created_at: datetime
    last_purchase_at: datetime | None
    order_count: int = Field(description="Completed orders")
    total_purchases: int = Field(description="Completed orders less refunds, in minor units of the page's unit")
    balance: int | None = Field(
        description="In minor units of the page's unit; null unless the token has accounts:read"
    )
    marketing_consent: bool


class PeoplePage(Schema):
    items: list[PersonOut]
    count: int = Field(description="How many people match, on every page")
    unit: str
    decimals: int
    next_cursor: str | None


class SegmentOut(Schema):
    id: int
    name: str
    count: int | None = Field(description="How many people match now; null if its filter can no longer be read")
    conditions: list[ConditionOut]
    q: str
    order: str


class SegmentPage(Schema):
    items: list[SegmentOut]
    next_cursor: str | None


class NoteIn(Schema):
    body: Annotated[str, Field(min_length=1, max_length=5000)]
    pinned: bool = False
    follow_up_on: date | None = None


class NoteOut(Schema):
    id: int
    body: str
    author: str | None = Field(description="Who wrote it; null when they are no longer a user")
    pinned: bool
    follow_up_on: date | None
    follow_up_done_at: datetime | None
    created_at: datetime
    updated_at: datetime


class NotePage(Schema):
    items: list[NoteOut]
    next_cursor: str | None


class TagsIn(Schema):
    add: Annotated[list[TagName], Field(max_length=20)] = []
    remove: Annotated[list[TagName], Field(max_length=20)] = []


# --- billing: scheduled payments and the billing settings -------------------------------------------


def _iso_date(value: Any) -> Any:
    # Only "YYYY-MM-DD": pydantic would also read a number as a Unix time, which nobody means here.
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("Give a date as YYYY-MM-DD, e.g. 2026-12-09.")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class AttemptOut(Schema):
    number: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str = Field(
        description="processing, succeeded, declined, declined_hard, action_required, unknown, no_card"
    )
    amount: int = Field(description="What this attempt charged (or would have), in minor units of `currency`")
    decline_code: str = Field(description="The bank's or the gateway's code, e.g. insufficient_funds; empty if none")
    message: str = Field(description="What the gateway said, as it said it")
    reason: str = Field(description="The decline in plain words; empty when there was none")


class ScheduledPaymentOut(Schema):
    id: int
    customer: int = Field(description="The customer's id, as in /customers")
    customer_name: str
    kind: str = Field(description="debt")
    status: str = Field(description="scheduled, processing, retrying, succeeded, failed, cancelled or not_needed")
    due_on: date = Field(description="The day the customer was told, in the hub's time zone")
    run_on: date = Field(
        description="The day of the next attempt (due_on, then each retry's), at the hub's morning hour"
    )
    amount: int = Field(description="The most it charges, in minor units of `currency`")
    currency: str
    credits: int = Field(description="What it pays for, in minor units of `unit` (the hub's credit unit)")
    unit: str
    attempts_made: int
    outcome: str = Field(description="The last outcome, or why it was cancelled")
    decline_code: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class ScheduledPaymentDetailOut(ScheduledPaymentOut):
    attempts: list[AttemptOut]


class ScheduledPaymentPage(Schema):
    items: list[ScheduledPaymentOut]
    next_cursor: str | None


class ScheduledCancelIn(Schema):
    reason: Annotated[str, Field(min_length=1, max_length=300, description="Why; kept with the payment")]


class ScheduledDateIn(Schema):
    date: IsoDate = Field(description="The new day, YYYY-MM-DD: not before the customer can be told of it")


class BillingSettingsOut(Schema):
    debt_billing: bool
    schedule_after_order: bool
    notice_days: int = Field(description="Customers are told this many days before a charge")
    retry_days: list[int] = Field(description="Days after the first attempt on which a soft decline is tried again")
    min_charge: int | None = Field(description="The smallest charge set by the hub, in minor units; null: the "
                                   "gateway's minimum")  # fmt: skip
    smallest_charge: int = Field(description="The smallest charge in force, in minor units of `currency`")
    currency: str
    overdue_days: int = Field(description="Unpaid debt older than this is overdue")
    morning_hour: int = Field(description="The hour payments are charged, in the hub's time zone")
    timezone: str
    updated_at: datetime | None = Field(description="null: the hub has never changed them (the defaults)")
