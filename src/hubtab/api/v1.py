"""HTTP API v1 (django-ninja), served at /api/v1/ with its OpenAPI document at /api/v1/openapi.json.

Thin: every handler checks the token's scope, then calls a service or selector. A token belongs
to one hub; another hub's objects answer 404.
"""

import base64
import copy
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from hubtab.accounts.services import (
    CreditAction,
    account_rules_set,
    order_hold_place,
    order_hold_void,
)
from hubtab.api.billing import router as billing_router
from hubtab.api.crm import router as crm_router
from hubtab.api.errors import ApiError, error_body
from hubtab.api.idempotency import idempotent, ledger_key
from hubtab.api.models import ApiToken, Scope
from hubtab.api.schemas import (
    ERRORS,
    MAX_ID,
    PAGE,
    AccountOut,
    CaptureIn,
    ChargeIn,
    CreditIn,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    DebitIn,
    EntryOut,
    EntryPage,
    FloorIn,
    HoldIn,
    HoldOut,
    ObjectId,
    PostedOut,
)
from hubtab.api.services import token_authenticate, token_scoped
from hubtab.core.errors import DomainError
from hubtab.core.money import unit_get
from hubtab.crm.models import Customer
from hubtab.crm.selectors import customer_get, customer_list
from hubtab.crm.services import customer_charge, customer_create, customer_credit_apply, customer_hold_capture
from hubtab.ledger.selectors import account_state, hold_get
from hubtab.ledger.statements import account_entries
from hubtab.ledger.types import Posted


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return token_authenticate(token)


class HubtabAPI(NinjaAPI):
    """The schema is the same for the life of the process: built once per path prefix (about 70 ms)."""

    _schemas: dict[str, Any]

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        cached = self.__dict__.setdefault("_schemas", {})
        if path_prefix not in cached:
            cached[path_prefix] = super().get_openapi_schema(path_prefix=path_prefix)
        return copy.deepcopy(cached[path_prefix])


api = HubtabAPI(
    title="Hubtab API",
    version="1",
    description="Customer credit accounts and the CRM of one hub. Amounts are integers in minor units. Every POST "
    "needs an Idempotency-Key header.",
    auth=TokenAuth(),
    urls_namespace="api-v1",
    docs_url="/docs",  # an interactive reference, from the project's own static files
)
api.add_router("", crm_router)  # people, segments, notes and tags: api/crm.py
api.add_router("", billing_router)  # scheduled payments and billing settings: api/billing.py


def _error(request: HttpRequest, status: int, code: str, message: str, details: Any = None) -> HttpResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return api.create_response(request, body, status=status)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    status, body = error_body(exc)
    return api.create_response(request, body, status=status)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details = [{"loc": list(e.get("loc", [])), "msg": str(e.get("msg", ""))} for e in exc.errors]
    return _error(request, 422, "validation_error", "The request is not valid.", details)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthorized", "Send a valid hub token as 'Authorization: Bearer <token>'.")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found at this hub.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "bad_request" if exc.status_code < 500 else "error", str(exc))


def _customer(token: ApiToken, customer_id: int) -> Customer:
    customer = customer_get(hub=token.hub, customer_id=customer_id)
    if customer is None:
        raise ApiError(404, "not_found", "No such customer at this hub.")
    return customer


def _customer_out(customer: Customer) -> CustomerOut:
    tags = sorted(t.name for t in customer.tags.all())  # the same as crm.rows gives the list pages
    return CustomerOut(
        id=customer.id,
        email=customer.email,
        first_name=customer.first_name,
        last_name=customer.last_name,
        phone=customer.phone,
        code=customer.code,
        tags=tags,
        archived=customer.archived_at is not None,
        created_at=customer.created_at,
    )


def _account_out(token: ApiToken, account_id: int) -> AccountOut:
    state = account_state(hub_id=token.hub_id, account_id=account_id)
    return AccountOut(
        unit=state.unit,
        decimals=unit_get(hub_id=token.hub_id, code=state.unit).decimals,
        balance=state.balance_minor,
        held=state.held_minor,
        floor=state.floor_minor,
        spendable=state.spendable_minor,
    )


def _posted(token: ApiToken, customer: Customer, posted: Posted) -> Status[Any]:
    """201 with the new transaction and the account as it stands after it."""
    return Status(201, {"transaction_id": posted.transaction_id, "account": _account_out(token, customer.account_id)})


def _cursor(value: int | None) -> str | None:
    return None if value is None else base64.urlsafe_b64encode(str(value).encode()).decode()


def _after(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(422, "validation_error", "That cursor is not one this API gave.") from exc
    if not 0 < value <= MAX_ID:
        raise ApiError(422, "validation_error", "That cursor is not one this API gave.")
    return value


# --- customers ------------------------------------------------------------------------------------


@api.post("/customers", response={201: CustomerOut, **ERRORS}, tags=["customers"])
@idempotent
def customers_create(request: HttpRequest, payload: CustomerIn) -> Status[Any]:
    token = token_scoped(request, Scope.CUSTOMERS_WRITE)
    customer = customer_create(
        hub=token.hub,
        email=payload.email,
        first_name=payload.first_name,
        last_name=payload.last_name,
        tags=payload.tags,
        source="imported",
        actor=token.created_by,
    )
    return Status(201, _customer_out(customer))


@api.get("/customers", response={200: CustomerPage, **ERRORS}, tags=["customers"])
def customers_list(
    request: HttpRequest, q: str = Query("", max_length=100), tag: str = Query("", max_length=40),
    cursor: str | None = Query(None, max_length=40),
) -> Status[Any]:  # fmt: skip
    """Customers in the order they were created, `PAGE` at a time; pass `next_cursor` for the next page."""
    token = token_scoped(request, Scope.CUSTOMERS_READ)
    after = _after(cursor)
    rows = customer_list(hub=token.hub, query=q, tag=tag, archived=None).order_by("id")
    if after is not None:
        rows = rows.filter(id__gt=after)
    page = list(rows[: PAGE + 1])
    items = [_customer_out(c) for c in page[:PAGE]]
    return Status(200, {"items": items, "next_cursor": _cursor(page[PAGE - 1].id) if len(page) > PAGE else None})


@api.get("/customers/{customer_id}", response={200: CustomerOut, **ERRORS}, tags=["customers"])
def customers_get(request: HttpRequest, customer_id: ObjectId) -> Status[Any]:
    token = token_scoped(request, Scope.CUSTOMERS_READ)
    return Status(200, _customer_out(_customer(token, customer_id)))


# --- accounts -------------------------------------------------------------------------------------


@api.get("/customers/{customer_id}/account", response={200: AccountOut, **ERRORS}, tags=["accounts"])
def account_get(request: HttpRequest, customer_id: ObjectId) -> Status[Any]:
    token = token_scoped(request, Scope.ACCOUNTS_READ)
    return Status(200, _account_out(token, _customer(token, customer_id).account_id))


@api.patch("/customers/{customer_id}/account", response={200: AccountOut, **ERRORS}, tags=["accounts"])
def account_patch(request: HttpRequest, customer_id: ObjectId, payload: FloorIn) -> Status[Any]:
    """Set the account's spending limit (floor)."""
    token = token_scoped(request, Scope.ACCOUNTS_WRITE)
    customer = _customer(token, customer_id)
    account_rules_set(hub=token.hub, actor=token.created_by, account_id=customer.account_id, floor_minor=payload.floor)
    return Status(200, _account_out(token, customer.account_id))


@api.get("/customers/{customer_id}/account/entries", response={200: EntryPage, **ERRORS}, tags=["accounts"])
def account_entries_list(
    request: HttpRequest, customer_id: ObjectId, cursor: str | None = Query(None, max_length=40)
) -> Status[Any]:
    """The account's entries, newest first, with the balance after each."""
    token = token_scoped(request, Scope.ACCOUNTS_READ)
    customer = _customer(token, customer_id)
    entries = account_entries(
        hub_id=token.hub_id, account_id=customer.account_id, before_id=_after(cursor), limit=PAGE + 1
    )
    items = [EntryOut(**e.__dict__) for e in entries[:PAGE]]
    return Status(200, {"items": items, "next_cursor": _cursor(entries[PAGE - 1].id) if len(entries) > PAGE else None})


@api.post("/customers/{customer_id}/account/credits", response={201: PostedOut, **ERRORS}, tags=["accounts"])
@idempotent
def account_credit(request: HttpRequest, customer_id: ObjectId, payload: CreditIn) -> Status[Any]:
    """Add paid credit, or granted credit that may expire at `expires_at`."""
    token = token_scoped(request, Scope.ACCOUNTS_WRITE)
    customer = _customer(token, customer_id)
    posted = customer_credit_apply(
        hub=token.hub,
        actor=token.created_by,
        customer=customer,
        action=CreditAction.ADD_GRANTED if payload.kind == "granted" else CreditAction.ADD_PAID,
        amount_minor=payload.amount,
        comment=payload.reason,
        key=ledger_key(request),
        expires_at=payload.expires_at,
    )
    return _posted(token, customer, posted)


@api.post("/customers/{customer_id}/account/debits", response={201: PostedOut, **ERRORS}, tags=["accounts"])
@idempotent
def account_debit(request: HttpRequest, customer_id: ObjectId, payload: DebitIn) -> Status[Any]:
    """Remove credit, within the spending limit."""
    token = token_scoped(request, Scope.ACCOUNTS_WRITE)
    customer = _customer(token, customer_id)
    posted = customer_credit_apply(
        hub=token.hub, actor=token.created_by, customer=customer, action=CreditAction.REMOVE,
        amount_minor=payload.amount, comment=payload.reason, key=ledger_key(request),
    )  # fmt: skip
    return _posted(token, customer, posted)


@api.post("/customers/{customer_id}/account/charges", response={201: PostedOut, **ERRORS}, tags=["accounts"])
@idempotent
def account_charge(request: HttpRequest, customer_id: ObjectId, payload: ChargeIn) -> Status[Any]:
    """Pay an order from the account, into the hub's sales, within the spending limit."""
    token = token_scoped(request, Scope.ACCOUNTS_WRITE)
    customer = _customer(token, customer_id)
    posted = customer_charge(
        hub=token.hub, customer=customer, amount_minor=payload.amount, reference=payload.reference,
        description=payload.description, key=ledger_key(request), actor=token.created_by,
    )  # fmt: skip
    return _posted(token, customer, posted)


def _hold_out(token: ApiToken, hold_id: ObjectId) -> HoldOut:
    hold = hold_get(hub_id=token.hub_id, hold_id=hold_id)
    return HoldOut(
        id=hold.id, status=hold.status, amount=hold.amount_minor, captured=hold.captured_minor,
        reference=hold.reference, expires_at=hold.expires_at,
    )  # fmt: skip


@api.post("/customers/{customer_id}/account/holds", response={201: HoldOut, **ERRORS}, tags=["holds"])
@idempotent
def account_hold(request: HttpRequest, customer_id: ObjectId, payload: HoldIn) -> Status[Any]:
    """Reserve an order's amount until it is captured or voided (or `expires_at` passes)."""
    token = token_scoped(request, Scope.ACCOUNTS_WRITE)
    customer = _customer(token, customer_id)
    result = order_hold_place(
        hub=token.hub, account_id=customer.account_id, amount_minor=payload.amount, reference=payload.reference,
        key=ledger_key(request), expires_at=payload.expires_at,
    )  # fmt: skip
    return Status(201, _hold_out(token, result.hold_id))


@api.post("/holds/{hold_id}/capture", response={200: HoldOut, **ERRORS}, tags=["holds"])
@idempotent
def hold_capture(request: HttpRequest, hold_id: ObjectId, payload: CaptureIn) -> Status[Any]:
    """Take the final amount (the held amount when not given) and release the rest."""
    token = token_scoped(request, Scope.ACCOUNTS_WRITE)
    customer_hold_capture(hub=token.hub, hold_id=hold_id, key=ledger_key(request), amount_minor=payload.amount,
                          actor=token.created_by)  # fmt: skip
    return Status(200, _hold_out(token, hold_id))


@api.post("/holds/{hold_id}/void", response={200: HoldOut, **ERRORS}, tags=["holds"])
@idempotent
def hold_void(request: HttpRequest, hold_id: ObjectId) -> Status[Any]:
    token = token_scoped(request, Scope.ACCOUNTS_WRITE)
    order_hold_void(hub=token.hub, hold_id=hold_id)
    return Status(200, _hold_out(token, hold_id))
