"""The billing pages of a hub (finance and owner): customers to bill, scheduled payments, overdue
accounts and the billing settings."""

from django.urls import path

from hubtab.billing import views

urlpatterns = [
    path("", views.billing_customers, name="billing_customers"),
    path("scheduled/", views.scheduled_payments, name="scheduled_payments"),
    path("scheduled/<int:scheduled_id>/", views.scheduled_payment_detail, name="scheduled_payment_detail"),
    path("overdue/", views.overdue_accounts, name="billing_overdue"),
    path("settings/", views.billing_settings_page, name="billing_settings"),
]
