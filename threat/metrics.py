"""Prometheus figures of the alert queue, read from the database at scrape time (`onenet_` prefix)."""

from django.db.models import Count, Sum
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from threat.choices import INCIDENT_OPEN, OPEN_STATUSES
from threat.models import Alert, Incident


class ThreatMetrics:
    """onenet_alerts_total{kind,status}, onenet_alert_events_total{kind}, onenet_alerts_open{kind,severity},
    onenet_incidents_open{severity} (infected hosts not resolved)."""

    def collect(self):
        alerts = CounterMetricFamily("onenet_alerts", "Alerts stored, by kind and status.", labels=["kind", "status"])
        events = CounterMetricFamily("onenet_alert_events", "Detections counted into alerts, by kind.",
                                     labels=["kind"])
        open_ = GaugeMetricFamily("onenet_alerts_open", "Open alerts (new, acknowledged, contained).",
                                  labels=["kind", "severity"])
        for row in Alert.objects.values("kind", "status").annotate(n=Count("id")).order_by("kind", "status"):
            alerts.add_metric([row["kind"], row["status"]], row["n"])
        for row in Alert.objects.values("kind").annotate(n=Sum("count")).order_by("kind"):
            events.add_metric([row["kind"]], row["n"] or 0)
        for row in (Alert.objects.filter(status__in=OPEN_STATUSES).values("kind", "severity")
                    .annotate(n=Count("id")).order_by("kind", "severity")):
            open_.add_metric([row["kind"], row["severity"]], row["n"])
        incidents = GaugeMetricFamily("onenet_incidents_open", "Infected hosts whose incident is not resolved.",
                                      labels=["severity"])
        for row in (Incident.objects.filter(status__in=INCIDENT_OPEN).values("severity").annotate(n=Count("id"))
                    .order_by("severity")):
            incidents.add_metric([row["severity"]], row["n"])
        yield alerts
        yield events
        yield open_
        yield incidents
