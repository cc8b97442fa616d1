"""The change pipeline's logic: requests (create, dry run, approve), the push itself, producers and the audit log.

- `requests`: create a change for devices, dry-run it, approve / reject / cancel, confirm, roll back, resolve;
- `pipeline`: the roll-out (pilot, then the rest), one device's push with its post-check, and the resolver that
  settles a device left mid-change;
- `devices`: reaching a device for a change (SSH with its pinned key, a quick SNMP answer check);
- `producers`: changes made from compliance findings, the egress policy and alert containment;
- `audit`: the append-only log.
"""

from web.errors import OneNetError


class ChangeError(OneNetError):
    """A change request the pipeline refuses, with a catalogued code."""
