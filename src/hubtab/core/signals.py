"""What core tells the domains above it without importing them."""

from django.dispatch import Signal

# An invitation is ready to be sent (invitation=, link=): messaging renders it and sends it as a
# Delivery, like every email Hubtab sends.
invitation_ready = Signal()
