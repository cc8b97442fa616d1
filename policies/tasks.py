"""Celery tasks: thin, call the services."""

from celery import shared_task

from web.celery import app

SNAPSHOT_TASK = "policies.snapshot_scores"
SNAPSHOT_EVERY_S = 3600  # hourly: a day's trend point is its last state, and a missed run costs an hour, not a day


@shared_task(name=SNAPSHOT_TASK)
def snapshot_scores() -> dict:
    """Today's compliance counts per city, county and township (the Compliance page's trend)."""
    from policies.services import snapshot_scores as take

    return take()


# Registered with beat when the worker or beat imports the apps' tasks; with django-celery-beat's scheduler it
# becomes a periodic task in the database (editable in the admin) the first time beat starts.
app.add_periodic_task(SNAPSHOT_EVERY_S, snapshot_scores.s(), name="compliance score snapshot", queue="celery")
