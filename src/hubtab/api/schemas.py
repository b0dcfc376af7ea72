"""The API's request and response bodies. Amounts are whole numbers of minor units: a float, a
string or a bool is refused (StrictInt), as is anything beyond 10^12."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Path, Schema
from pydantic import Field, StrictInt

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
