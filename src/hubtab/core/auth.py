"""How logins are limited: failures count per address and place, so one shared network (a market
hall's Wi-Fi) does not lock out everyone on it, and a stranger can't lock a person out from afar."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class HubtabAccountAdapter(DefaultAccountAdapter):
    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """The "key" of the login-failure limit: the address typed and where from, together."""
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{self.get_client_ip(request)}"
