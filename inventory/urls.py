from django.urls import path

from inventory import views

app_name = "inventory"
urlpatterns = [
    path("devices/", views.DeviceList.as_view(), name="devices"),
    path("devices/<int:pk>/", views.device_detail, name="device"),
    path("sites/", views.SiteList.as_view(), name="sites"),
    path("sites/<int:pk>/", views.site_detail, name="site"),
    path("agencies/", views.AgencyList.as_view(), name="agencies"),
    path("prefixes/", views.PrefixList.as_view(), name="prefixes"),
    path("links/", views.LinkList.as_view(), name="links"),
]
