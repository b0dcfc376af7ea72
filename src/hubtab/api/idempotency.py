"""Every POST carries an Idempotency-Key. The first answer is stored with the key in the same
database transaction as the work; a retry with the same body gets that answer again, a different
body under the same key gets 409. Two requests racing with one key: the second waits for the
first's row, then replays it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Status

from hubtab.api.errors import ApiError, error_body
from hubtab.api.models import IdempotencyRecord
from hubtab.core.errors import DomainError

Handler = Callable[..., Status[Any]]


def idempotent(handler: Handler) -> Handler:
    @wraps(handler)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Status[Any]:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 200:
            raise ApiError(400, "idempotency_key_required", "Send an Idempotency-Key header (1 to 200 characters).")
        hub = request.auth.hub  # type: ignore[attr-defined]
        digest = request_digest(request)
        with transaction.atomic():
            record_id = _claim(hub.id, key, digest)
            if record_id is None:  # the key was used before (or is being used right now: this waits for it)
                first = IdempotencyRecord.objects.get(hub=hub, key=key)
                if first.request_hash != digest:
                    raise ApiError(
                        409, "idempotency_conflict", "This Idempotency-Key was used for a different request."
                    ) from None
                return Status(first.status_code, first.response)
            try:
                request.ledger_key = f"api:{key}"  # type: ignore[attr-defined]  # the ledger's own key for this request
                result = handler(request, *args, **kwargs)
                status, body = result.status_code, result.value
            except ApiError as exc:
                if exc.status in (401, 403):  # refused before any work: the key stays unused (the claim rolls back)
                    raise
                status, body = error_body(exc)
            except DomainError as exc:
                status, body = error_body(exc)
            response = _jsonable(body)
            IdempotencyRecord.objects.filter(hub=hub, id=record_id).update(status_code=status, response=response)
            return Status(status, response)

    return wrapper


def request_digest(request: HttpRequest) -> str:
    """What makes two requests the same: the method, the path and the parsed body. The same JSON
    with its keys in another order or other whitespace is the same request; a body that is not
    JSON is compared as sent."""
    try:
        body = json.dumps(json.loads(request.body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:  # not JSON (or not UTF-8): the handler refuses it; compare it as it is
        body = request.body
    return hashlib.sha256(f"{request.method} {request.path}\n".encode() + body).hexdigest()


def _claim(hub_id: int, key: str, digest: str) -> int | None:
    """Insert the key's row and return its id, or None when the key is already taken. One
    statement, without the savepoint a caught IntegrityError would need (this runs on every POST)."""
    table = IdempotencyRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (hub_id, key, request_hash, status_code, response, created_at) "
            "VALUES (%s, %s, %s, 0, '{}', %s) ON CONFLICT (hub_id, key) DO NOTHING RETURNING id",
            [hub_id, key, digest, timezone.now()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _jsonable(body: Any) -> Any:
    """The response as JSON data, as it is sent, so that a replay sends the same."""
    return json.loads(json.dumps(body, cls=_Encoder))


class _Encoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        if hasattr(o, "model_dump"):
            return o.model_dump(mode="json")
        return super().default(o)


def ledger_key(request: HttpRequest) -> str:
    """The ledger idempotency key of the POST being handled (set by @idempotent)."""
    key = getattr(request, "ledger_key", None)
    assert isinstance(key, str), "only inside an @idempotent handler"
    return key
