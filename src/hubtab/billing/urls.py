"""The billing pages of a hub (finance and owner): customers to bill, scheduled payments, overdue
accounts and the billing settings."""

from django.urls import path

from hubtab.billing import overdue_views, scheduled_views, views

urlpatterns = [
    path("", views.billing_customers, name="billing_customers"),
    path("preview/", views.billing_preview, name="billing_preview"),
    path("bill/", views.billing_bill, name="billing_bill"),
    path("scheduled/", scheduled_views.scheduled_payments, name="scheduled_payments"),
    path("scheduled/export.csv", scheduled_views.scheduled_export, name="scheduled_export"),
    path("scheduled/selection/", scheduled_views.scheduled_bulk, name="scheduled_bulk"),
    path("scheduled/<int:scheduled_id>/", scheduled_views.scheduled_payment_detail, name="scheduled_payment_detail"),
    path("scheduled/<int:scheduled_id>/date/", scheduled_views.scheduled_date_change, name="scheduled_date_change"),
    path("scheduled/<int:scheduled_id>/cancel/", scheduled_views.scheduled_cancel, name="scheduled_cancel"),
    path("scheduled/<int:scheduled_id>/retry/", overdue_views.scheduled_retry, name="scheduled_retry"),
    path("overdue/", overdue_views.overdue_accounts, name="billing_overdue"),
    path("overdue/<int:customer_id>/", overdue_views.overdue_account, name="overdue_account"),
    path("overdue/<int:customer_id>/payment/", overdue_views.overdue_record, name="overdue_record"),
    path("overdue/<int:customer_id>/schedule/", overdue_views.overdue_schedule_view, name="overdue_schedule"),
    path("settings/", views.billing_settings_page, name="billing_settings"),
]
