"""The celery app. Tasks are thin and take primary keys; the logic lives in each app's services."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")

app = Celery("onenet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
