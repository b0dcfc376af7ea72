"""Each hub's gateway keys, and the gateway that answers for a hub."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.services import audit_record
from hubtab.crm.models import Customer
from hubtab.payments import locks
from hubtab.payments.gateway import PaymentGateway, StripeGateway
from hubtab.payments.models import (
    GatewayAccount,
    GatewayCustomer,
)


def gateway_account_set(
    *, hub: Hub, actor: User | None, publishable_key: str, secret_key: str = "", webhook_secret: str = ""
) -> GatewayAccount:
    """Save the hub's Stripe keys. A blank secret keeps the one saved (it is never shown back)."""
    publishable_key = (publishable_key or "").strip()
    secret_key = (secret_key or "").strip()
    webhook_secret = (webhook_secret or "").strip()
    if not publishable_key.startswith("pk_"):
        raise DomainError("validation_error", _("The publishable key starts with pk_."))
    if secret_key and not secret_key.startswith(("sk_", "rk_")):
        raise DomainError("validation_error", _("The secret key starts with sk_ (or rk_ for a restricted key)."))
    if webhook_secret and not webhook_secret.startswith("whsec_"):
        raise DomainError("validation_error", _("The webhook signing secret starts with whsec_."))
    with transaction.atomic():
        account = locks.gateway_account_locked(hub=hub)
        if account is None and not secret_key:
            raise DomainError("validation_error", _("Enter the secret key."))
        account = account or GatewayAccount(hub=hub)
        account.publishable_key = publishable_key
        account.secret_key = secret_key or account.secret_key
        account.webhook_secret = webhook_secret or account.webhook_secret
        account.updated_at = timezone.now()
        account.updated_by = actor
        account.save()
        audit_record(hub=hub, actor=actor, action="payments.gateway", summary=gettext_noop("Changed the Stripe keys"),
                     subject=account, data={"secret_key": account.secret_key_hint})  # fmt: skip
    return account


def gateway_for(hub: Hub) -> PaymentGateway:
    account = GatewayAccount.objects.filter(hub=hub).first()
    if account is None:
        raise DomainError("payments_off", _("This hub does not take card payments yet."))
    return StripeGateway(secret_key=account.secret_key, webhook_secret=account.webhook_secret)


def _gateway_customer(hub: Hub, gateway: PaymentGateway, customer: Customer) -> str:
    """The gateway's customer for this account, created once (the key makes a retry safe)."""
    existing = GatewayCustomer.objects.filter(hub=hub, account_id=customer.account_id).first()
    if existing is not None:
        return existing.ref
    ref = gateway.customer_ensure(
        key=f"hubtab-customer-{hub.id}-{customer.account_id}", email=customer.email, name=customer.full_name
    )
    try:
        with transaction.atomic():
            GatewayCustomer.objects.create(hub=hub, account_id=customer.account_id, ref=ref)
    except IntegrityError:
        pass  # made at the same moment by another request, with the same key: the same customer
    return ref
