"""Stored configs as a given user may see them: secrets masked for every role but admin, in pages, diffs and
downloads alike."""

from __future__ import annotations

import difflib

from django.utils import timezone

from collectors.models import ConfigVersion
from platforms import get as platform
from web.access import user_role


def shows_secrets(user) -> bool:
    return user_role(user) == "admin"


def diff_label(device_name: str, fetched_at) -> str:
    """A version's name in a diff header: the device and the fetch time in the configured zone, with its offset."""
    return f"{device_name} {timezone.localtime(fetched_at):%Y-%m-%d %H:%M:%S %z}"


def visible_config(version: ConfigVersion, user) -> tuple[str, str]:
    """(config text, unified diff against the previous version) as `user` may see them.

    The diff is taken between the two masked texts, so a changed secret shows as a changed line whose hash
    differs, and no secret leaks through a diff line; it is taken when shown, so its header names the versions in
    the configured time zone (the stored diff's header has the zone of the backup that wrote it)."""
    previous = (ConfigVersion.objects.filter(device_id=version.device_id, fetched_at__lt=version.fetched_at)
                .order_by("-fetched_at", "-pk").first())
    mask = (lambda text: text) if shows_secrets(user) else platform(version.device.platform).mask_secrets
    text = mask(version.text)
    if previous is None:
        return text, ""
    diff = difflib.unified_diff(
        mask(previous.text).splitlines(), text.splitlines(), lineterm="",
        fromfile=diff_label(version.device.name, previous.fetched_at),
        tofile=diff_label(version.device.name, version.fetched_at))
    return text, "\n".join(diff)
