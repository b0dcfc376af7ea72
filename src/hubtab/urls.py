"""URL map of the whole app: the web pages, accounts (log in, sign up, reset), and the platform admin."""

from django.contrib import admin
from django.urls import include, path

from hubtab.api import views as api_views
from hubtab.api.v1 import api as api_v1
from hubtab.core import views as core_views
from hubtab.crm import import_views as crm_imports
from hubtab.crm import list_views as crm_lists
from hubtab.crm import note_views, organisation_views, portal_views, settings_views
from hubtab.crm import views as crm_views
from hubtab.payments import views as payment_views
from hubtab.shop import catalogue_views as shop_catalogue
from hubtab.shop import crew_views as shop_crew
from hubtab.shop import join_views as shop_join
from hubtab.shop import views as shop_views
from hubtab.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("join/<slug:hub_slug>/", shop_join.hub_join, name="hub_join"),
    path("me/", portal_views.portal, name="portal"),
    path("me/<slug:hub_slug>/", portal_views.portal_hub, name="portal_hub"),
    path("me/<slug:hub_slug>/top-up/", payment_views.topup, name="topup"),
    path("me/<slug:hub_slug>/auto-top-up/", payment_views.auto_top_up, name="auto_top_up"),
    path("me/<slug:hub_slug>/card/", payment_views.my_card_setup, name="my_card_setup"),
    path("me/<slug:hub_slug>/top-up/<int:payment_id>/", payment_views.topup_card, name="topup_card"),
    path("me/<slug:hub_slug>/top-up/<int:payment_id>/pay/", payment_views.topup_pay, name="topup_pay"),
    path("me/<slug:hub_slug>/top-up/<int:payment_id>/done/", payment_views.topup_done, name="topup_done"),
    path("me/<slug:hub_slug>/shop/", shop_views.storefront, name="shop"),
    path("me/<slug:hub_slug>/shop/cart/", shop_views.cart, name="shop_cart"),
    path("me/<slug:hub_slug>/shop/checkout/", shop_views.checkout, name="shop_checkout"),
    path(
        "me/<slug:hub_slug>/shop/checkout/paid/<int:payment_id>/", shop_views.checkout_paid, name="shop_checkout_paid"
    ),
    path("me/<slug:hub_slug>/orders/", shop_views.my_orders, name="my_orders"),
    path("me/<slug:hub_slug>/orders/<int:order_id>/", shop_views.my_order, name="my_order"),
    path(
        "me/<slug:hub_slug>/statement.<str:fmt>",
        portal_views.portal_statement,
        name="portal_statement",
    ),
    path("invitations/<str:token>/", core_views.invitation_accept_page, name="invitation_accept"),
    path("hubs/<slug:slug>/", views.dashboard, name="dashboard"),
    path("hubs/<slug:slug>/accounts/", views.hub_accounts, name="hub_accounts"),
    path("hubs/<slug:slug>/customers/", crm_lists.customer_index, name="customer_index"),
    path("hubs/<slug:slug>/customers/new/", crm_views.customer_new, name="customer_new"),
    path("hubs/<slug:slug>/customers/export.csv", crm_lists.customer_export, name="customer_export"),
    path("hubs/<slug:slug>/customers/emails/", crm_lists.customers_emails, name="customers_emails"),
    path("hubs/<slug:slug>/customers/selection/", crm_lists.customers_bulk, name="customers_bulk"),
    path("hubs/<slug:slug>/customers/segments/", crm_lists.segments_page, name="customer_segments"),
    path("hubs/<slug:slug>/customers/segments/save/", crm_lists.segment_save_view, name="customer_segment_save"),
    path(
        "hubs/<slug:slug>/customers/segments/<int:segment_id>/delete/",
        crm_lists.segment_delete_view,
        name="customer_segment_delete",
    ),
    path("hubs/<slug:slug>/customers/credit/", crm_views.customers_credit_many, name="customers_credit_many"),
    path("hubs/<slug:slug>/customers/import/", crm_imports.customer_import_upload, name="customer_import"),
    path(
        "hubs/<slug:slug>/customers/import/<int:import_id>/",
        crm_imports.customer_import_review,
        name="customer_import_review",
    ),
    path(
        "hubs/<slug:slug>/customers/import/<int:import_id>/apply/",
        crm_imports.customer_import_apply,
        name="customer_import_apply",
    ),
    path(
        "hubs/<slug:slug>/customers/import/<int:import_id>/progress/",
        crm_imports.customer_import_progress,
        name="customer_import_progress",
    ),
    path("hubs/<slug:slug>/customers/<int:customer_id>/", crm_views.customer_detail, name="customer_detail"),
    path("hubs/<slug:slug>/customers/<int:customer_id>/edit/", crm_views.customer_edit, name="customer_edit"),
    path(
        "hubs/<slug:slug>/customers/<int:customer_id>/archive/",
        crm_views.customer_archive_toggle,
        name="customer_archive",
    ),
    path("hubs/<slug:slug>/customers/<int:customer_id>/notes/", note_views.customer_note_add, name="customer_note_add"),
    path("hubs/<slug:slug>/customers/<int:customer_id>/consent/", crm_views.customer_consent, name="customer_consent"),
    path(
        "hubs/<slug:slug>/customers/<int:customer_id>/notes/<int:note_id>/edit/",
        note_views.customer_note_edit,
        name="customer_note_edit",
    ),
    path(
        "hubs/<slug:slug>/customers/<int:customer_id>/notes/<int:note_id>/delete/",
        note_views.customer_note_delete,
        name="customer_note_delete",
    ),
    path(
        "hubs/<slug:slug>/customers/<int:customer_id>/notes/<int:note_id>/pin/",
        note_views.customer_note_pin,
        name="customer_note_pin",
    ),
    path(
        "hubs/<slug:slug>/customers/<int:customer_id>/notes/<int:note_id>/done/",
        note_views.customer_note_done,
        name="customer_note_done",
    ),
    path("hubs/<slug:slug>/customers/<int:customer_id>/credit/", crm_views.customer_credit, name="customer_credit"),
    path(
        "hubs/<slug:slug>/customers/<int:customer_id>/payments/",
        payment_views.customer_payments,
        name="customer_payments",
    ),
    path(
        "hubs/<slug:slug>/customers/<int:customer_id>/payments/card/",
        payment_views.customer_card_setup,
        name="customer_card_setup",
    ),
    path(
        "hubs/<slug:slug>/customers/<int:customer_id>/transactions/<int:transaction_id>/reverse/",
        crm_views.customer_transaction_reverse,
        name="customer_transaction_reverse",
    ),
    path("hubs/<slug:slug>/settings/credit/", views.credit_settings, name="credit_settings"),
    path("hubs/<slug:slug>/settings/payments/", payment_views.gateway_settings, name="gateway_settings"),
    path("hubs/<slug:slug>/settings/crm/", settings_views.crm_settings, name="crm_settings"),
    path("hubs/<slug:slug>/transfers/", payment_views.transfers, name="transfers"),
    path("hubs/<slug:slug>/billing/", include("hubtab.billing.urls")),
    path("hubs/<slug:slug>/settings/credit/unit/", views.credit_unit_view, name="credit_unit"),
    path("hubs/<slug:slug>/settings/credit/prices/", views.unit_price_view, name="unit_price"),
    path("hubs/<slug:slug>/settings/credit/bundles/", views.bundle_create_view, name="bundle_create"),
    path(
        "hubs/<slug:slug>/settings/credit/bundles/<int:bundle_id>/archive/",
        views.bundle_archive_view,
        name="bundle_archive",
    ),
    path(
        "hubs/<slug:slug>/settings/credit/apply-limit/",
        crm_views.customers_floor_apply_view,
        name="customers_floor_apply",
    ),
    path("hubs/<slug:slug>/organisations/", organisation_views.organisation_index, name="organisation_index"),
    path(
        "hubs/<slug:slug>/organisations/<int:organisation_id>/",
        organisation_views.organisation_detail,
        name="organisation_detail",
    ),
    path(
        "hubs/<slug:slug>/organisations/<int:organisation_id>/credit/",
        organisation_views.organisation_credit,
        name="organisation_credit",
    ),
    path("hubs/<slug:slug>/shop/products/", shop_catalogue.products, name="shop_products"),
    path("hubs/<slug:slug>/shop/products/<int:product_id>/", shop_catalogue.product_detail, name="shop_product"),
    path("hubs/<slug:slug>/shop/cycles/", shop_catalogue.cycles, name="shop_cycles"),
    path("hubs/<slug:slug>/shop/cycles/<int:cycle_id>/", shop_catalogue.cycle_detail, name="shop_cycle"),
    path("hubs/<slug:slug>/shop/orders/<int:order_id>/", shop_crew.order_detail, name="shop_order"),
    path("hubs/<slug:slug>/shop/orders/<int:order_id>/pack/", shop_crew.order_pack_view, name="shop_order_pack"),
    path(
        "hubs/<slug:slug>/shop/orders/<int:order_id>/complete/",
        shop_crew.order_complete_view,
        name="shop_order_complete",
    ),
    path("hubs/<slug:slug>/shop/orders/<int:order_id>/extras/", shop_crew.order_extra_view, name="shop_order_extra"),
    path("hubs/<slug:slug>/shop/orders/<int:order_id>/cancel/", shop_crew.order_cancel_view, name="shop_order_cancel"),
    path("hubs/<slug:slug>/shop/orders/<int:order_id>/refund/", shop_crew.order_refund_view, name="shop_order_refund"),
    path(
        "hubs/<slug:slug>/customers/<int:customer_id>/orders/",
        shop_crew.customer_orders,
        name="shop_customer_orders",
    ),
    path("hubs/<slug:slug>/team/", core_views.team, name="team"),
    path("hubs/<slug:slug>/team/<int:membership_id>/remove/", core_views.team_remove, name="team_remove"),
    path(
        "hubs/<slug:slug>/team/invitations/<int:invitation_id>/withdraw/",
        core_views.invitation_withdraw,
        name="invitation_withdraw",
    ),
    path("hubs/<slug:slug>/activity/", core_views.audit, name="audit"),
    path("hubs/<slug:slug>/api-tokens/", api_views.api_tokens, name="api_tokens"),
    path("hubs/<slug:slug>/api-tokens/<int:token_id>/revoke/", api_views.api_token_revoke, name="api_token_revoke"),
    path("api/v1/", api_v1.urls),
    path("webhooks/stripe/<slug:hub_slug>/", payment_views.stripe_webhook, name="stripe_webhook"),
    path("admin/", admin.site.urls),
]
