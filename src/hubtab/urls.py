"""URL map of the whole app: the web pages, login and the platform admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from hubtab.crm import views as crm_views
from hubtab.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", crm_views.portal, name="portal"),
    path("hubs/<slug:slug>/accounts/", views.hub_accounts, name="hub_accounts"),
    path("hubs/<slug:slug>/customers/", crm_views.customer_index, name="customer_index"),
    path("hubs/<slug:slug>/customers/new/", crm_views.customer_new, name="customer_new"),
    path("hubs/<slug:slug>/customers/<int:customer_id>/", crm_views.customer_detail, name="customer_detail"),
    path("hubs/<slug:slug>/customers/<int:customer_id>/edit/", crm_views.customer_edit, name="customer_edit"),
    path(
        "hubs/<slug:slug>/customers/<int:customer_id>/archive/",
        crm_views.customer_archive_toggle,
        name="customer_archive",
    ),
    path("admin/", admin.site.urls),
]
