from django.urls import path

from policies import views

app_name = "compliance"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("findings/", views.FindingList.as_view(), name="findings"),
    path("results/<int:pk>/", views.result_detail, name="result"),
    path("waivers/", views.WaiverList.as_view(), name="waivers"),
    path("waivers/new/", views.waiver_create, name="waiver_create"),
    path("waivers/<int:pk>/expire/", views.waiver_expire, name="waiver_expire"),
    path("mlps.xlsx", views.mlps_export, name="mlps_export"),
]
