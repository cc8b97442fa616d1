"""/metrics for Prometheus: read from the database at scrape time, `onenet_` prefix, Prometheus naming.

Labels: device, interface, county (the county/district slug, or "city" for the city level).
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from collectors.models import DeviceState, InterfaceSample, PollRun, PollRunStatus, SnmpState


def county_of(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) > 1 else "city"


class CollectorMetrics:
    """A prometheus_client collector over what the pollers stored."""

    def collect(self):
        now = timezone.now()
        up = GaugeMetricFamily("onenet_device_up", "1 when the device answered its last SNMP poll.",
                               labels=["device", "county", "platform"])
        backup_age = GaugeMetricFamily("onenet_device_backup_age_seconds", "Seconds since the last good backup.",
                                       labels=["device", "county"])
        for state in DeviceState.objects.select_related("device__site__region"):
            county = county_of(state.device.site.region.path)
            up.add_metric([state.device.name, county, state.device.platform],
                          1.0 if state.snmp_state == SnmpState.UP else 0.0)
            if state.last_backup_ok_at:
                backup_age.add_metric([state.device.name, county],
                                      (now - state.last_backup_ok_at).total_seconds())
        yield up
        yield backup_age

        finished = PollRun.objects.filter(status=PollRunStatus.FINISHED)
        last = finished.first()
        duration = GaugeMetricFamily("onenet_poll_duration_seconds", "Wall time of the last poll cycle.")
        failed = GaugeMetricFamily("onenet_poll_devices_failed", "Devices that failed in the last poll cycle.")
        if last:
            duration.add_metric([], last.seconds or 0.0)
            failed.add_metric([], last.devices_failed)
        yield duration
        yield failed
        runs = CounterMetricFamily("onenet_poll_cycles", "Poll cycles run to the end.")
        runs.add_metric([], finished.count())
        yield runs

        labels = ["device", "interface", "county"]
        bits_in = GaugeMetricFamily("onenet_interface_in_bits_per_second", "Inbound rate, last poll.", labels=labels)
        bits_out = GaugeMetricFamily("onenet_interface_out_bits_per_second", "Outbound rate, last poll.",
                                     labels=labels)
        util_in = GaugeMetricFamily("onenet_interface_in_utilisation_ratio", "Inbound rate / speed.", labels=labels)
        util_out = GaugeMetricFamily("onenet_interface_out_utilisation_ratio", "Outbound rate / speed.",
                                     labels=labels)
        recent = now - timedelta(seconds=2 * settings.ONENET_POLL_INTERVAL_S)
        seen = set()
        for sample in (InterfaceSample.objects.filter(time__gte=recent).order_by("interface_id", "-time")
                       .select_related("interface__device__site__region").iterator(chunk_size=5000)):
            if sample.interface_id in seen:
                continue
            seen.add(sample.interface_id)
            interface = sample.interface
            values = [interface.device.name, interface.name, county_of(interface.device.site.region.path)]
            for family, value in ((bits_in, sample.in_bps), (bits_out, sample.out_bps),
                                  (util_in, sample.in_utilisation), (util_out, sample.out_utilisation)):
                if value is not None:
                    family.add_metric(values, value)
        yield from (bits_in, bits_out, util_in, util_out)
