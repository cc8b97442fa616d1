"""`egress verify`: every device's latest stored config against the egress policy, the results kept for the console.

Each device fails alone: one without a stored config is reported as not checked, one whose config cannot be read
gets one error result (`config.parse`) and the others go on. The results replace the device's previous ones.
"""

from __future__ import annotations

import logging
import time
from collections import Counter

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from collectors.models import ConfigVersion
from egress.choices import Rule, Status
from egress.models import EgressResult
from egress.services.checks import RULES, DeviceContext, EgressFinding, device_findings
from egress.services.policy import EgressPolicy, default_policy
from inventory.models import Device
from web.errors import OneNetError

log = logging.getLogger(__name__)
CHUNK = 200  # devices whose configs are in memory at once


def _where(device: Device) -> dict:
    site = device.site
    return {"device": device.name, "platform": device.platform, "role": device.role,
            "site": site.name if site else None, "agency": site.agency.name if site and site.agency else None,
            "region": site.region.name if site else None}


def verify_devices(devices=None, policy: EgressPolicy | None = None, store: bool = True) -> dict:
    """Check each device's latest stored config; the document `egress verify --json` prints."""
    started = time.monotonic()
    policy = policy or default_policy()
    newest = ConfigVersion.objects.filter(device=OuterRef("pk")).order_by("-fetched_at", "-pk").values("pk")[:1]
    devices = list((devices if devices is not None else Device.objects.all())
                   .select_related("site__region", "site__agency").annotate(newest_config=Subquery(newest))
                   .order_by("name"))
    contexts = DeviceContext.for_devices(devices, policy)
    summary = {rule: Counter() for rule in RULES}
    report = {"policy": policy.path, "checked": 0, "not_checked": [], "errors": [], "findings": [], "devices": []}
    for start in range(0, len(devices), CHUNK):
        chunk = devices[start:start + CHUNK]
        versions = ConfigVersion.objects.in_bulk([d.newest_config for d in chunk if d.newest_config])
        stored: dict[Device, tuple[ConfigVersion, list[EgressFinding]]] = {}
        for device in chunk:
            entry = {**_where(device), "config_version": device.newest_config, "results": {}}
            report["devices"].append(entry)
            version = versions.get(device.newest_config)
            if version is None:
                report["not_checked"].append(device.name)
                entry["status"] = "not_checked"
                continue
            try:
                findings = device_findings(device.platform, version.text, device.role, contexts[device.pk], policy)
            except Exception as error:  # noqa: BLE001 - one unreadable config fails alone
                code = error.code if isinstance(error, OneNetError) else "EGRESS_CONFIG_UNREADABLE"
                message = error.message if isinstance(error, OneNetError) else f"{type(error).__name__}: {error}"
                if not isinstance(error, OneNetError):
                    log.exception("the config of %s could not be checked", device.name)
                report["errors"].append({"device": device.name, "code": code, "message": message})
                entry.update(status="error", error={"code": code, "message": message})
                stored[device] = (version, [EgressFinding(Rule.CONFIG_READABLE, Status.ERROR,
                                                          f"{code}: {message}")])
                continue
            report["checked"] += 1
            entry["status"] = "checked"
            for finding in findings:
                entry["results"][finding.rule] = finding.status
                summary[finding.rule][finding.status] += 1
                if finding.status == Status.FAIL:
                    report["findings"].append({**_where(device), **finding.as_dict()})
            stored[device] = (version, findings)
        if store:
            _store(stored)
    report["summary"] = {rule: {status: counts.get(status, 0) for status in (Status.PASS, Status.FAIL,
                                                                             Status.NOT_APPLICABLE)}
                         for rule, counts in summary.items()}
    report["seconds"] = round(time.monotonic() - started, 3)
    return report


def _store(stored: dict) -> None:
    now = timezone.now()
    rows = [EgressResult(device=device, rule=f.rule, status=f.status, message=f.message,
                         evidence=[list(e) for e in f.evidence], remediation=f.remediation, details=f.details,
                         config_version=version, checked_at=now)
            for device, (version, findings) in stored.items() for f in findings]
    with transaction.atomic():
        EgressResult.objects.filter(device__in=[d.pk for d in stored]).delete()
        EgressResult.objects.bulk_create(rows, batch_size=500)
