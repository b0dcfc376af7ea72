"""The gateway's webhook endpoint (the customer's and the owner's payment pages live with them)."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hubtab.payments.services import WebhookRefused, webhook_receive

log = logging.getLogger(__name__)


@csrf_exempt  # signed by the gateway instead
@require_POST
def stripe_webhook(request: HttpRequest, hub_slug: str) -> HttpResponse:
    try:
        outcome = webhook_receive(
            hub_slug=hub_slug, payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except WebhookRefused as refused:
        log.warning("stripe webhook refused (%s): %s", refused.status, refused.reason)
        return JsonResponse({"error": refused.reason}, status=refused.status)
    log.info("stripe webhook: %s", outcome)
    return JsonResponse({"ok": outcome})
