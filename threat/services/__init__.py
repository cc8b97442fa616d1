"""The threat app's logic: ingest and triage (alerts), location (enrichment), containment, live sensor, EVE."""


from web.errors import OneNetError


class ThreatError(OneNetError):
    """An operator-facing error of the threat app: a stable code and a sentence that says what to do."""
