"""Requests carrying a NUL character are refused up front: PostgreSQL can't store one in text,
so it would otherwise surface deep inside as a server error."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

MESSAGE = "The request contains a NUL character, which no field accepts."


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"error": {"code": "validation_error", "message": MESSAGE}}, status=422)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        """In the path, the query string or the body, raw or escaped. The body is read as bytes
        (and so cached for the view): parsing it here would consume the stream."""
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return True
        if request.method in ("POST", "PUT", "PATCH"):
            body = request.body
            return b"\x00" in body or b"%00" in body or b"\\u0000" in body
        return False
