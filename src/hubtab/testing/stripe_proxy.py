"""A local proxy in front of localstripe that answers as real Stripe does where localstripe falls
short for scheduled card charges: payments listed by customer, banks' decline codes in Stripe's
card error body, idempotent replays, and answers lost after the charge was made.

It runs as a thread of the test process, so tests steer it directly (`decline`, `lose_answers`);
every other request goes to localstripe unchanged."""

from __future__ import annotations

import http.client
import json
import logging
import threading
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

log = logging.getLogger(__name__)

# What Stripe tells the customer for each decline code (test mode's messages where Stripe's docs
# show them; a lost or stolen card is not named to the customer, as Stripe does not).
DECLINE_MESSAGES = {
    "authentication_required": "Your card was declined. This transaction requires authentication.",
    "card_not_supported": "Your card does not support this type of purchase.",
    "card_velocity_exceeded": "Your card was declined for making repeated attempts too frequently or exceeding its "
    "amount limit.",
    "currency_not_supported": "Your card does not support this currency.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "incorrect_number": "Your card number is incorrect.",
    "insufficient_funds": "Your card has insufficient funds.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
}
DECLINED = "Your card was declined."  # generic_decline, do_not_honor, lost_card, fraudulent, ...

# Decline codes Stripe also reports as the error's own code; every other decline is "card_declined".
OWN_ERROR_CODE = {
    "authentication_required",
    "expired_card",
    "incorrect_cvc",
    "incorrect_number",
    "incorrect_zip",
    "processing_error",
}

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host",
               "accept-encoding", "date", "server", "proxy-connection", "te", "upgrade"}  # fmt: skip


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


def _json_answer(status: int, data: Any, headers: tuple[tuple[str, str], ...] = ()) -> _Answer:
    kept = tuple((k, v) for k, v in headers if k.lower() != "content-type")
    return _Answer(status, (("Content-Type", "application/json"), *kept), json.dumps(data, indent=2).encode())


def _request_error(message: str, param: str = "") -> _Answer:
    error = {"type": "invalid_request_error", "message": message, **({"param": param} if param else {})}
    return _json_answer(400, {"error": error})


@dataclass
class _Declined:
    """A payment the proxy declined with a bank's code: later reads of it carry the code too."""

    charge_ref: str
    decline_code: str
    payment_method: Any = field(default=None)


class StripeProxy:
    """Start it on a free local port in front of `upstream` (localstripe's URL); `url` is where
    the SDK (HUBTAB_STRIPE_API_BASE) and the browser talk to instead."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._declines: dict[str, str] = {}  # payment method ref -> the bank's decline code
        self._declined: dict[str, _Declined] = {}  # payment intent ref -> how it was declined
        self._replays: dict[tuple[str, str], tuple[tuple[str, str, bytes], _Answer]] = {}
        self._to_lose = 0
        self.answers_lost = 0
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread: threading.Thread | None = None

    # --- what tests call -------------------------------------------------------------------

    def start(self) -> StripeProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="stripe-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> StripeProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def decline(self, payment_method_ref: str, decline_code: str) -> None:
        """Charges of this payment method fail with the bank's `decline_code`. The method must be a
        card localstripe declines when charged (4000000000000341); the proxy gives the reason."""
        with self._lock:
            self._declines[payment_method_ref] = decline_code

    def lose_answers(self, count: int = 1) -> None:
        """The next `count` payment creates reach localstripe, then the connection is dropped with no
        answer: the charge is made, the caller never learns it (a timeout, a crash)."""
        with self._lock:
            self._to_lose = count

    def reset(self) -> None:
        """Forget declines, lost answers and idempotency keys (between tests)."""
        with self._lock:
            self._declines.clear()
            self._declined.clear()
            self._replays.clear()
            self._to_lose = 0
            self.answers_lost = 0

    # --- answering ---------------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Answer | None:
        """The answer to one request, or None to drop the connection without one."""
        path = urlsplit(target).path
        query = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
        if (
            method == "GET"
            and path == "/v1/payment_intents"
            and any(name == "customer" or name.startswith("created") for name in query)
        ):
            return self._intents_listed(query, headers)

        # Stripe keeps the answer to a POST under its Idempotency-Key (per account) and gives it
        # again to a retry, so a retry after a lost answer never charges twice; localstripe doesn't.
        key = headers.get("Idempotency-Key", "") if method == "POST" else ""
        scope = (headers.get("Authorization", ""), key)
        if key:
            with self._lock:
                kept = self._replays.get(scope)
            if kept is not None:
                request, earlier = kept
                if request != (method, target, body):
                    return _json_answer(400, {"error": {"type": "idempotency_error", "message": (
                        "Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different request."
                    )}})  # fmt: skip
                return replace(earlier, headers=(*earlier.headers, ("Idempotent-Replayed", "true")))

        answer = self._patched(
            path, self._declined_with_code(method, path, headers, self._forward(method, target, headers, body))
        )
        if key and (answer.status < 300 or answer.status == 402):  # Stripe keeps results, not refusals
            with self._lock:
                self._replays[scope] = ((method, target, body), answer)
        if method == "POST" and path == "/v1/payment_intents":
            with self._lock:
                if self._to_lose > 0:
                    self._to_lose -= 1
                    self.answers_lost += 1
                    return None
        return answer

    def _forward(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Answer:
        connection = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            connection.request(method, target, body=body if body or method in ("POST", "PUT") else None, headers=sent)
            response = connection.getresponse()
            data = response.read()
            kept = tuple((k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP)
            return _Answer(response.status, kept, data)
        except OSError as exc:
            log.warning("stripe proxy: localstripe did not answer %s %s: %s", method, target, exc)
            return _json_answer(502, {"error": {"type": "api_error", "message": f"localstripe: {exc}"}})
        finally:
            connection.close()

    def _get(self, target: str, headers: dict[str, str]) -> tuple[int, Any]:
        auth = {k: v for k, v in headers.items() if k.lower() in ("authorization", "stripe-version")}
        answer = self._forward("GET", target, auth, b"")
        return answer.status, answer.json()

    def _intents_listed(self, query: dict[str, str], headers: dict[str, str]) -> _Answer:
        """Stripe's list of payments filtered by customer and creation time, newest first, one page
        (limit, starting_after, ending_before); localstripe lists them all, oldest first."""
        try:
            limit = int(query.get("limit") or 10)
            bounds = {name[8:-1]: int(value) for name, value in query.items() if name.startswith("created[")}
            if "created" in query:
                bounds["eq"] = int(query["created"])
        except ValueError:
            return _request_error("Invalid integer in the list's limit or created filter.")
        if not 1 <= limit <= 100:
            return _request_error("This value must be between 1 and 100.", "limit")
        everything: list[dict[str, Any]] = []
        after = ""
        while True:
            status, page = self._get("/v1/payment_intents?" + urlencode({"limit": 100, **(
                {"starting_after": after} if after else {})}), headers)  # fmt: skip
            if status != 200:
                return _json_answer(status, page)
            everything += page["data"]
            if not page["has_more"] or not page["data"]:
                break
            after = page["data"][-1]["id"]
        tests = {"eq": int.__eq__, "gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}
        chosen = [
            intent for intent in reversed(everything)  # the same second: the later one first
            if ("customer" not in query or intent.get("customer") == query["customer"])
            and all(tests[op](intent["created"], bound) for op, bound in bounds.items() if op in tests)
        ]  # fmt: skip
        chosen.sort(key=lambda intent: intent["created"], reverse=True)
        ids = [intent["id"] for intent in chosen]
        if query.get("starting_after") in ids:
            start = ids.index(query["starting_after"]) + 1
            page_items, has_more = chosen[start : start + limit], len(chosen) > start + limit
        elif query.get("ending_before") in ids:
            end = ids.index(query["ending_before"])
            page_items, has_more = chosen[max(0, end - limit) : end], end > limit
        else:
            page_items, has_more = chosen[:limit], len(chosen) > limit
        listed = {"object": "list", "url": "/v1/payment_intents", "has_more": has_more,
                  "data": [self._intent_patched(intent) for intent in page_items]}  # fmt: skip
        return _json_answer(200, listed)

    def _declined_with_code(self, method: str, path: str, headers: dict[str, str], answer: _Answer) -> _Answer:
        """localstripe's 402 for a charge of a payment method given a decline code, as Stripe's card
        error: the bank's code, Stripe's message, and the payment in its failed state."""
        if method != "POST" or not path.startswith("/v1/payment_intents") or answer.status != 402:
            return answer
        charge_ref = ((answer.json() or {}).get("error") or {}).get("charge")
        if not charge_ref:
            return answer
        status, charge = self._get(f"/v1/charges/{charge_ref}", headers)
        with self._lock:
            decline_code = self._declines.get(charge.get("payment_method") or "") if status == 200 else None
        if decline_code is None or not charge.get("payment_intent"):
            return answer
        intent_ref = charge["payment_intent"]
        _, method_object = self._get(f"/v1/payment_methods/{charge['payment_method']}", headers)
        with self._lock:
            self._declined[intent_ref] = _Declined(charge_ref, decline_code, method_object)
        _, intent = self._get(f"/v1/payment_intents/{intent_ref}", headers)
        error = {**_card_error(charge_ref, decline_code), "payment_intent": self._intent_patched(intent),
                 "payment_method": method_object}  # fmt: skip
        return _json_answer(402, {"error": error}, answer.headers)

    def _patched(self, path: str, answer: _Answer) -> _Answer:
        """Payments the proxy declined keep their decline code in every later read."""
        if not self._declined or not path.startswith("/v1/payment_intents") or answer.status != 200:
            return answer
        data = answer.json()
        if isinstance(data, dict) and data.get("object") == "payment_intent":
            return _json_answer(200, self._intent_patched(data), answer.headers)
        if isinstance(data, dict) and data.get("object") == "list":
            return _json_answer(200, {**data, "data": [self._intent_patched(i) for i in data["data"]]}, answer.headers)
        return answer

    def _intent_patched(self, intent: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            declined = self._declined.get(intent.get("id", ""))
        error = intent.get("last_payment_error")
        if declined is None or not error or error.get("charge") != declined.charge_ref:
            return intent
        patched = {**error, **_card_error(declined.charge_ref, declined.decline_code)}
        return {**intent, "last_payment_error": {**patched, "payment_method": declined.payment_method}}


def _card_error(charge_ref: str, decline_code: str) -> dict[str, Any]:
    code = decline_code if decline_code in OWN_ERROR_CODE else "card_declined"
    return {
        "type": "card_error",
        "code": code,
        "decline_code": decline_code,
        "message": DECLINE_MESSAGES.get(decline_code, DECLINED),
        "charge": charge_ref,
        "doc_url": f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}",
    }


class _Handler(BaseHTTPRequestHandler):
    proxy: StripeProxy
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's session expects

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        # Header names are case-insensitive: one spelling, so the proxy finds Idempotency-Key.
        headers = {name.title(): value for name, value in self.headers.items()}
        answer = self.proxy.answer(self.command, self.path, headers, body)
        if answer is None:  # the answer is lost: close without a word
            self.close_connection = True
            return
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_DELETE = do_PUT = do_OPTIONS = _handle

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("stripe proxy: " + format, *args)
