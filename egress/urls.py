from django.urls import path

from egress import views

app_name = "egress"
urlpatterns = [
    path("", views.index, name="index"),
    path("results/", views.ResultList.as_view(), name="results"),
]
