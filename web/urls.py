from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from collectors import views as collector_views
from web import landing, views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("coverage/", views.coverage, name="coverage"),
    path("overview/items/", views.overview_items, name="overview_items"),
    path("availability/", include("collectors.availability_urls")),
    path("inventory/", include("inventory.urls")),
    path("bandwidth/", include("collectors.urls")),
    path("threat/", include("threat.urls")),
    path("compliance/", include("policies.urls")),
    path("egress/", include("egress.urls")),
    path("changes/", include("changes.urls")),
    path("configs/<int:pk>/", collector_views.config_version, name="config_version"),
    path("devices/<int:pk>/ssh-host-key/accept/", collector_views.accept_host_key, name="accept_host_key"),
    path("login/", landing.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
]
