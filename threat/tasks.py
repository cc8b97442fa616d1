"""Celery tasks: thin, take primary keys (or a path), call the services."""

from celery import shared_task


@shared_task(name="threat.locate_alert")
def locate_alert(alert_id: int) -> bool:
    from threat.services.enrichment import locate_alert as locate

    return locate(alert_id, ssh=True)


@shared_task(name="threat.scan_capture")
def scan_capture(path: str) -> dict:
    from threat.services.scan import scan_captures

    result = scan_captures([path], ingest=True)
    return {k: result[k] for k in ("packets", "bytes", "seconds", "warnings", "ingested")}


@shared_task(name="threat.import_eve")
def import_eve(path: str) -> dict:
    from threat.services.eve import import_eve as run

    return run(path)
