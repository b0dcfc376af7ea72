"""The API's request and response bodies. Amounts are whole numbers of minor units: a float, a
string or a bool is refused (StrictInt), as is anything beyond 10^12."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, StrictInt

MAX = 10**12
Amount = Annotated[
    StrictInt,
    Field(gt=0, le=MAX, description="In the account's minor units (its `decimals`): with 2 decimals 1250 is 12.50; "
          "in whole credits 12 is 12 credits"),
]  # fmt: skip
Text = Annotated[str, Field(max_length=500)]
MAX_ID = 2**63 - 1  # ids are PostgreSQL bigints


class ErrorBody(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    error: ErrorBody


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
