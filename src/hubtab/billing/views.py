"""The billing pages (being built: see issue 15)."""

from django.http import Http404, HttpRequest, HttpResponse


def _not_yet(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise Http404


billing_customers = scheduled_payments = scheduled_payment_detail = overdue_accounts = billing_settings_page = _not_yet
