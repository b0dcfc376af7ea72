"""Sections that domains above the CRM add to a customer's account page (billing's upcoming
payments). They sit above the CRM, so each registers here in its app's ready() and the page
renders what they give, without the CRM importing them."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString

from hubtab.crm.models import Customer

# Given the request and the customer's own record: the section's HTML (a rendered template), or
# None to show nothing.
PortalSection = Callable[[HttpRequest, Customer], SafeString | None]

_sections: list[PortalSection] = []


def portal_section_register(section: PortalSection) -> None:
    """Add a section to the account page, once, in the order the apps are loaded."""
    if section not in _sections:
        _sections.append(section)


def portal_sections_render(*, request: HttpRequest, customer: Customer) -> list[SafeString]:
    """Each registered section's HTML for this customer, the empty ones left out."""
    rendered = (section(request, customer) for section in _sections)
    return [html for html in rendered if html]
