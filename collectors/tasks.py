"""Celery tasks: thin, take primary keys, call the services."""

from celery import shared_task


@shared_task(name="collectors.poll_region")
def poll_region(region_id: int | None = None, run_id: int | None = None) -> dict:
    """Poll the devices of one county (its own queue), or of the city level when region_id is None.

    run_id: the queued run 'collect now' made for this task. A cycle that finds another one polling the same
    devices is refused and returns `refused` (not an error: the devices are being polled)."""
    from collectors.services.polling import poll_cycle
    from collectors.services.schedules import region_path_or_city

    path, city_only = region_path_or_city(region_id)
    return poll_cycle(region_path=path, city_only=city_only, run_id=run_id)


@shared_task(name="collectors.poll_device")
def poll_device(device_id: int, run_id: int | None = None) -> dict:
    """run_id: the queued run 'poll now' made for this task (collectors.services.device_jobs)."""
    from collectors.services.polling import poll_cycle
    from inventory.models import Device

    return poll_cycle(device_name=Device.objects.get(pk=device_id).name, run_id=run_id)


@shared_task(name="collectors.discover_region")
def discover_region(region_id: int | None = None) -> dict:
    from collectors.services.discovery import discover_devices
    from collectors.services.polling import pollable_devices
    from collectors.services.schedules import region_path_or_city

    path, city_only = region_path_or_city(region_id)
    return discover_devices(list(pollable_devices(region_path=path, city_only=city_only)))


@shared_task(name="collectors.backup_region")
def backup_region(region_id: int | None = None) -> dict:
    from collectors.services.backup import backup_devices
    from collectors.services.schedules import region_path_or_city

    path, city_only = region_path_or_city(region_id)
    return backup_devices(region_path=path, city_only=city_only)


@shared_task(name="collectors.backup_device")
def backup_device(device_id: int) -> dict:
    from collectors.services.backup import backup_devices
    from inventory.models import Device

    return backup_devices(device_name=Device.objects.get(pk=device_id).name)


@shared_task(name="collectors.rollup_and_prune")
def rollup_and_prune() -> dict:
    from collectors.services.availability import prune_availability
    from collectors.services.rollups import prune_samples, rollup_recent

    return {**rollup_recent(), **prune_samples(), **prune_availability()}
