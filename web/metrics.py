"""The Prometheus registry of the console: each app adds its collector here."""

from functools import cache

from prometheus_client import CollectorRegistry


@cache
def registry() -> CollectorRegistry:
    from collectors.metrics import CollectorMetrics
    from threat.metrics import ThreatMetrics

    registry = CollectorRegistry(auto_describe=False)
    registry.register(CollectorMetrics())
    registry.register(ThreatMetrics())
    return registry
