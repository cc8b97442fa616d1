"""What the threat app tells its other parts: an incident was resolved (its containment proposals listen, so that
the incidents module never imports them)."""

from django.dispatch import Signal

incident_resolved = Signal()  # sender=Incident, incident=the resolved Incident, user=who resolved it
