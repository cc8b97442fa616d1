from django.urls import path

from collectors import views

app_name = "bandwidth"
urlpatterns = [
    path("", views.index, name="index"),
    path("links/<int:pk>/", views.link_detail, name="link"),
    path("links/<int:pk>/series.json", views.link_series, name="link_series"),
    path("interfaces/<int:pk>/", views.interface_detail, name="interface"),
    path("interfaces/<int:pk>/series.json", views.interface_series, name="interface_series"),
    path("expansion/", views.expansion, name="expansion"),
    path("collect/", views.collect_now, name="collect"),
    path("devices/<int:pk>/backup/", views.device_backup_now, name="device_backup"),
    path("devices/<int:pk>/poll/", views.device_poll_now, name="device_poll"),
    path("devices/<int:pk>/jobs.json", views.device_jobs_status, name="device_jobs"),
    path("where/", views.where, name="where"),
]
