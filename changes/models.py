"""Change requests, one task per device, and the append-only audit log.

A `ChangeRequest` is what an engineer asks for (targets, lines or per-platform text, reason, confirm timeout,
pilot size); its `region` is the narrowest part of the administrative tree holding every target, which is what
scopes it. A `ChangeTask` is one device's share: the lines it gets, the dry run's diff, the config before
(pre-snapshot) and after (post-snapshot), where the push is (`phase`) and how it ended. A device has at most one
task being changed at a time (a unique index over its active tasks), so two changes never interleave on it.
`AuditEntry` rows are written for every step and can be neither edited nor deleted, from the ORM or the admin.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from changes.choices import ACTIVE_TASK, Action, ChangeStatus, Outcome, Phase, Source, TaskStatus


class ChangeRequest(models.Model):
    SCOPE_PATH = "region__path"

    title = models.CharField(_("title"), max_length=200)
    reason = models.TextField(_("reason"), max_length=4000)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.MANUAL)
    status = models.CharField(_("status"), max_length=20, choices=ChangeStatus.choices,
                              default=ChangeStatus.PREPARING, db_index=True)
    # The narrowest region holding every target device: a user must cover it to see or approve the change.
    region = models.ForeignKey("inventory.Region", models.PROTECT, related_name="+", verbose_name=_("region"))
    targets = models.CharField(_("targets"), max_length=500, blank=True)  # as the author named them
    # Per-platform candidate text as written (slug → config-file lines); producers fill each task's lines instead.
    candidate = models.JSONField(_("candidate"), default=dict, blank=True)
    rules = models.JSONField(_("rules to pass"), default=list, blank=True)  # compliance rules the change fixes
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("author"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    confirm_timeout = models.PositiveIntegerField(_("confirm timeout (s)"), default=300)
    auto_confirm = models.BooleanField(_("confirm when the post-check passes"), default=True)
    pilot_size = models.PositiveIntegerField(_("pilot devices"), default=1)
    run_after = models.DateTimeField(_("run after"), null=True, blank=True)
    # Containment: the alert it contains; a release after `release_after` seconds is itself a change.
    alert = models.ForeignKey("threat.Alert", models.SET_NULL, null=True, blank=True,
                              related_name="containment_changes", verbose_name=_("alert"))
    release_after = models.PositiveIntegerField(_("release after (s)"), null=True, blank=True)
    release_of = models.OneToOneField("self", models.SET_NULL, null=True, blank=True, related_name="release",
                                      verbose_name=_("releases"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("change")
        verbose_name_plural = _("changes")

    def __str__(self):
        return f"#{self.pk} {self.title}"


class ChangeTask(models.Model):
    SCOPE_PATH = "device__site__region__path"

    change = models.ForeignKey(ChangeRequest, models.CASCADE, related_name="tasks", verbose_name=_("change"))
    device = models.ForeignKey("inventory.Device", models.CASCADE, related_name="change_tasks",
                               verbose_name=_("device"))
    batch = models.PositiveSmallIntegerField(_("batch"), default=1)  # 0: the pilot
    lines = models.JSONField(_("config lines"), default=list)  # config-file lines for the device's platform
    diff = models.TextField(_("diff"), blank=True)  # the dry run: running → candidate
    # What the dry run found the device would get, as approved; None: no dry run (a release approved as lines).
    push_lines = models.JSONField(null=True, blank=True, default=None)
    status = models.CharField(_("status"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.PENDING,
                              db_index=True)
    phase = models.CharField(_("phase"), max_length=16, choices=Phase.choices, default=Phase.NONE, blank=True)
    reason = models.TextField(_("outcome"), blank=True)
    pre_config = models.TextField(_("config before"), blank=True)
    post_config = models.TextField(_("config after"), blank=True)
    snmp_before = models.BooleanField(null=True, blank=True)  # did SNMP answer before the push
    device_timer = models.BooleanField(default=False)  # the device's own commit-confirm is armed
    worker = models.CharField(max_length=200, blank=True)  # the process pushing it (to find orphans)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    confirm_deadline = models.DateTimeField(_("confirm by"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["batch", "device__name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["change", "device"], name="change_task_once_per_device"),
            models.UniqueConstraint(fields=["device"], condition=Q(status__in=ACTIVE_TASK),
                                    name="one_change_at_a_time_per_device"),
        ]
        verbose_name = _("change task")
        verbose_name_plural = _("change tasks")

    def __str__(self):
        return f"#{self.change_id} {self.device_id} {self.status}"


class AppendOnly(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("the audit log is append-only")

    def delete(self):
        raise PermissionError("the audit log is append-only")


class AuditEntry(models.Model):
    """One step of a change: who, when, which device, the diff, how it went. Written once, never changed."""

    time = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    change = models.ForeignKey(ChangeRequest, models.PROTECT, related_name="audit", verbose_name=_("change"))
    # Kept as text too: the log outlives renamed users and devices.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("user"))
    username = models.CharField(_("user"), max_length=150, blank=True)
    device = models.ForeignKey("inventory.Device", models.SET_NULL, null=True, blank=True,
                               related_name="change_audit", verbose_name=_("device"))
    device_name = models.CharField(_("device"), max_length=80, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices, default=Outcome.OK)
    message = models.TextField(_("message"), blank=True)
    diff = models.TextField(_("diff"), blank=True)

    objects = AppendOnly.as_manager()

    class Meta:
        ordering = ["time", "pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self):
        return f"{self.time:%Y-%m-%d %H:%M:%S} #{self.change_id} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("the audit log is append-only")
