"""The threat app's logic: ingest and triage (alerts), location (enrichment), containment, live sensor, EVE."""


class ThreatError(Exception):
    """An operator-facing error: a stable code and a sentence that says what to do."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
