"""One error shape for the whole API: {"error": {"code": "...", "message": "..."}}."""

from __future__ import annotations

from typing import Any

from hubtab.core.errors import DomainError


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# Domain codes that mean "no such thing here" answer 404, as if it did not exist.
NOT_FOUND = {
    "not_found", "account_not_found", "customer_not_found", "hold_not_found", "transaction_not_found", "lot_not_found",
}  # fmt: skip
# The request was fine but the thing's state refuses it now: a scheduled payment being charged
# (try again in a minute) or already closed.
CONFLICT = {"idempotency_conflict", "customer_exists", "payment_processing", "payment_closed"}


def error_body(exc: ApiError | DomainError) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, ApiError):
        return exc.status, {"error": {"code": exc.code, "message": exc.message}}
    if exc.code in NOT_FOUND:
        return 404, {"error": {"code": "not_found", "message": exc.message}}
    if exc.code in CONFLICT:
        return 409, {"error": {"code": exc.code, "message": exc.message}}
    return 422, {"error": {"code": exc.code, "message": exc.message}}
