"""The customer's side of the gate: the logged-in person's own record at a hub, or "not found"."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from hubtab.crm.models import Customer
from hubtab.crm.selectors import customer_record_of_user


def own_record_or_404(request: HttpRequest, hub_slug: str) -> Customer:
    """The logged-in person's own customer record at this hub; 404 for a hub they have none at,
    so that nobody learns another hub exists."""
    assert request.user.pk is not None, "only for pages that require a login"
    record = customer_record_of_user(user_id=request.user.pk, hub_slug=hub_slug)
    if record is None:
        raise Http404("You have no account at this hub.")
    return record
