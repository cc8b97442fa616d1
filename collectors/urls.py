from django.urls import path

from collectors import views

app_name = "bandwidth"
urlpatterns = [
    path("", views.index, name="index"),
    path("links/<int:pk>/", views.link_detail, name="link"),
    path("links/<int:pk>/series.json", views.link_series, name="link_series"),
    path("expansion/", views.expansion, name="expansion"),
    path("collect/", views.collect_now, name="collect"),
]
