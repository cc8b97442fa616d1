"""The Prometheus registry of the console, filled with the collectors the apps registered (web.registry)."""

from functools import cache

from prometheus_client import CollectorRegistry

from web import registry as registrations


@cache
def registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    for collector in registrations.metrics_collectors():
        registry.register(collector.create())
    return registry
