from django.urls import path

from changes import views

app_name = "changes"
urlpatterns = [
    path("", views.ChangeList.as_view(), name="index"),
    path("new/", views.create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/act/", views.act, name="act"),
    path("<int:pk>/audit/", views.audit_export, name="audit_export"),
    path("tasks/<int:pk>/resolve/", views.resolve, name="resolve"),
    path("devices/<int:pk>/audit/", views.device_audit_export, name="device_audit_export"),
    path("from-findings/", views.from_findings, name="from_findings"),
    path("egress-rollout/", views.egress_rollout, name="egress_rollout"),
    path("contain/<int:alert_id>/", views.contain, name="contain"),
]
