from django.urls import path

from threat import views

app_name = "threat"
urlpatterns = [
    path("alerts/", views.AlertList.as_view(), name="alerts"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert"),
]
