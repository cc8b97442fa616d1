"""Celery tasks: thin, take primary keys, call the services. Pushes go to the devices' county queues."""

from celery import shared_task
from celery.signals import worker_ready


@shared_task(name="changes.prepare", bind=True)
def prepare(self, change_id: int) -> str:
    from changes.models import ChangeRequest
    from changes.services.dry_run import prepare as dry_run

    return dry_run(ChangeRequest.objects.get(pk=change_id)).status


@shared_task(name="changes.run_on_devices", bind=True)
def run_on_devices(self, change_id: int, task_ids: list[int], operation: str, user_id: int | None = None) -> dict:
    from changes.services import pipeline

    pipeline.set_worker(self.request.hostname or "")
    return pipeline.run_on_devices(change_id, task_ids, operation, user_id)


@shared_task(name="changes.sweep")
def sweep() -> dict:
    from changes.services.pipeline import sweep as settle

    return settle()


@worker_ready.connect
def settle_orphans(sender=None, **kwargs):
    """A worker that starts again first settles the devices it was pushing when it stopped."""
    from changes.services import pipeline

    name = getattr(sender, "hostname", "") or ""
    if name:
        pipeline.set_worker(name)
        pipeline.resolve_orphans(name)
