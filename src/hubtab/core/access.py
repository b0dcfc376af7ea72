"""Hub pages' gatekeeper: the hub from the URL, the person's roles there, the permission asked.

A person who is not a member of the hub gets 404 (nobody learns another hub exists); a member
whose roles lack the permission gets 403. The view's queries name this hub (core.tenancy).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone

from hubtab.core.models import Hub, User
from hubtab.core.permissions import Permission, permissions_for
from hubtab.core.selectors import membership_roles

View = Callable[..., HttpResponseBase]


def hub_view(permission: Permission) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            assert isinstance(request.user, User)
            hub = Hub.objects.filter(slug=slug).first()
            roles = membership_roles(hub=hub, user=request.user) if hub else set()
            if hub is None or not roles:
                raise Http404("No such hub.")
            granted = permissions_for(roles)
            if permission not in granted:
                raise PermissionDenied("Your role at this hub does not include this page.")
            request.hub = hub  # type: ignore[attr-defined]
            request.hub_permissions = granted  # type: ignore[attr-defined]
            # Dates on hub pages read in the hub's own timezone.
            with timezone.override(hub.timezone):
                return view(request, hub, *args, **kwargs)

        wrapper.hub_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorator


def may(request: HttpRequest, permission: Permission) -> bool:
    """Whether the person on this hub page holds `permission` there (False outside hub pages)."""
    return permission in getattr(request, "hub_permissions", frozenset())


def hub_permissions(request: HttpRequest) -> dict[str, frozenset[str]]:
    """Template context: `hub_can`, what the person may do at the hub of the page (empty elsewhere)."""
    return {"hub_can": frozenset(str(p) for p in getattr(request, "hub_permissions", frozenset()))}


def request_user(request: HttpRequest) -> User:
    """The logged-in person of a page that required a login (hub_view, login_required)."""
    assert isinstance(request.user, User), "only for pages that require a login"
    return request.user
