from django.urls import path

from threat import views

app_name = "threat"
urlpatterns = [
    path("alerts/", views.IncidentQueue.as_view(), name="alerts"),  # the alert queue: one row per infected host
    path("alerts/all/", views.AlertList.as_view(), name="alert_list"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert"),
    path("incidents/bulk/", views.incidents_bulk, name="incidents_bulk"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
]
