"""Security events: failed logins, lockouts, SSH host-key changes, credential-key problems.

One append-only table (web.SecurityEvent, read-only in the admin) that administrators review; every
event is also logged on the `onenet.security` logger for a SIEM.
"""

import logging

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.utils import timezone

log = logging.getLogger("onenet.security")


def record(kind: str, *, username: str = "", address: str | None = None, device=None, detail: str = ""):
    from web.models import SecurityEvent

    event = SecurityEvent.objects.create(time=timezone.now(), kind=kind, username=(username or "")[:150],
                                         address=address or None, device=device, detail=(detail or "")[:500])
    log.warning("security event %s user=%r address=%s device=%s %s", kind, event.username, address or "-",
                getattr(device, "name", "-"), event.detail)
    return event


def client_address(request) -> str | None:
    """The address django-axes throttles on (REMOTE_ADDR unless a proxy is configured for it)."""
    if request is None:
        return None
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    record("login_failed", username=str((credentials or {}).get("username") or ""), address=client_address(request),
           detail=request.path if request is not None else "")


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs):
    record("locked_out", username=username or "", address=ip_address,
           detail=request.path if request is not None else "")
