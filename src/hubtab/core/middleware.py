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
            if _is_api(request):
                return JsonResponse({"error": {"code": "validation_error", "message": MESSAGE}}, status=422)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        """In the path, the query string or the body, raw or escaped. The body is read as bytes
        (and so cached for the view): parsing it here would consume the stream. A form with files is
        parsed (Django keeps what it parsed for the view)."""
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return True
        if request.method in ("POST", "PUT", "PATCH"):
            if request.content_type == "multipart/form-data" and not _is_api(request):
                # An uploaded file's bytes are for the view that reads it to judge (an import tells a
                # binary file or UTF-16 text from a CSV, and says so); the form's other fields and the
                # files' names are checked like any body. The API takes no files and reads its raw
                # body itself (an idempotency key compares it), so an API body is checked raw.
                fields = (value for _name, values in request.POST.lists() for value in values)
                names = (upload.name or "" for _name, uploads in request.FILES.lists() for upload in uploads)
                return any("\x00" in text for text in (*fields, *names))
            body = request.body
            return b"\x00" in body or b"%00" in body or b"\\u0000" in body
        return False


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")
