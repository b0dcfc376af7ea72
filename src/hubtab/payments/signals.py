"""What payments tell the domains above them, which it does not import."""

from django.dispatch import Signal

# Sent after the commit that credited a payment, with `hub` and `payment_id`.
payment_succeeded = Signal()
