from django.urls import path

from collectors import availability_views

app_name = "availability"
urlpatterns = [
    path("", availability_views.MonthlyReport.as_view(), name="report"),
]
