"""What the shop tells the domains above it, which it does not import."""

from django.dispatch import Signal

# Sent inside the transaction that completed an order, with `hub`, `order` and `actor`: a
# receiver's writes commit or roll back with the order.
order_completed = Signal()
