"""What the collectors learn: device state, interface samples and roll-ups, config versions, tables.

Samples are written once: (interface, time) is unique, and the poller writes with
`ignore_conflicts`, so a retried or duplicated cycle can never store a sample twice.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from inventory.models import Device, Interface


class SnmpState(models.TextChoices):
    UNKNOWN = "unknown", _("Not polled yet")
    UP = "up", pgettext_lazy("SNMP state", "Up")  # not the direction (collectors/templates: "direction")
    UNREACHABLE = "unreachable", _("Unreachable")
    AUTH_FAILED = "auth_failed", _("Authentication failed")
    ERROR = "error", _("Error")


class BackupState(models.TextChoices):
    UNKNOWN = "unknown", _("Not backed up yet")
    OK = "ok", _("Backed up")
    FAILED = "failed", _("Failed")


class DeviceState(models.Model):
    SCOPE_PATH = "device__site__region__path"

    device = models.OneToOneField(Device, models.CASCADE, related_name="state", verbose_name=_("device"))
    snmp_state = models.CharField(_("SNMP state"), max_length=16, choices=SnmpState.choices,
                                  default=SnmpState.UNKNOWN)
    last_poll_at = models.DateTimeField(_("last poll"), null=True, blank=True)
    last_poll_ok_at = models.DateTimeField(_("last successful poll"), null=True, blank=True)
    last_poll_error = models.CharField(_("last poll error"), max_length=300, blank=True)
    sys_uptime = models.BigIntegerField(_("sysUpTime (1/100 s)"), null=True, blank=True)
    counter_bits = models.PositiveSmallIntegerField(default=64)
    last_discovery_at = models.DateTimeField(_("last interface discovery"), null=True, blank=True)
    sys_descr = models.TextField(_("sysDescr"), blank=True)
    sys_object_id = models.CharField(_("sysObjectID"), max_length=120, blank=True)
    backup_state = models.CharField(_("backup state"), max_length=16, choices=BackupState.choices,
                                    default=BackupState.UNKNOWN)
    last_backup_at = models.DateTimeField(_("last backup attempt"), null=True, blank=True)
    last_backup_ok_at = models.DateTimeField(_("last successful backup"), null=True, blank=True)
    last_backup_error = models.CharField(_("last backup error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("device state")
        verbose_name_plural = _("device states")

    def __str__(self):
        return f"{self.device} {self.snmp_state}"


class CounterSnapshot(models.Model):
    """The last raw counters of an interface: the other half of the next rate."""

    interface = models.OneToOneField(Interface, models.CASCADE, related_name="counter_snapshot")
    timestamp = models.FloatField()
    uptime = models.BigIntegerField(null=True)
    counter_bits = models.PositiveSmallIntegerField(default=64)
    in_octets = models.DecimalField(max_digits=20, decimal_places=0, null=True)
    out_octets = models.DecimalField(max_digits=20, decimal_places=0, null=True)
    in_errors = models.BigIntegerField(null=True)
    out_errors = models.BigIntegerField(null=True)
    in_discards = models.BigIntegerField(null=True)
    out_discards = models.BigIntegerField(null=True)

    def __str__(self):
        return f"{self.interface_id} @ {self.timestamp}"


class InterfaceSample(models.Model):
    """Rates of one interface over one poll interval, stamped at the end of the interval."""

    SCOPE_PATH = "interface__device__site__region__path"

    interface = models.ForeignKey(Interface, models.CASCADE, related_name="samples")
    time = models.DateTimeField(db_index=True)
    in_bps = models.FloatField(null=True)
    out_bps = models.FloatField(null=True)
    in_utilisation = models.FloatField(null=True)  # 0..1 of the interface speed
    out_utilisation = models.FloatField(null=True)
    in_errors_per_s = models.FloatField(null=True)
    out_errors_per_s = models.FloatField(null=True)
    in_discards_per_s = models.FloatField(null=True)
    out_discards_per_s = models.FloatField(null=True)
    oper_up = models.BooleanField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["interface", "time"], name="sample_once_per_time")]
        indexes = [models.Index(fields=["interface", "-time"])]

    def __str__(self):
        return f"{self.interface_id} @ {self.time:%Y-%m-%d %H:%M:%S}"


class RollupPeriod(models.TextChoices):
    HOUR = "hour", _("Hour")
    DAY = "day", _("Day")


class InterfaceRollup(models.Model):
    """Hourly and daily summaries: average, maximum and 95th percentile of each direction."""

    interface = models.ForeignKey(Interface, models.CASCADE, related_name="rollups")
    period = models.CharField(max_length=4, choices=RollupPeriod.choices)
    start = models.DateTimeField()
    samples = models.PositiveIntegerField()
    in_avg_bps = models.FloatField(null=True)
    out_avg_bps = models.FloatField(null=True)
    in_max_bps = models.FloatField(null=True)
    out_max_bps = models.FloatField(null=True)
    in_p95_bps = models.FloatField(null=True)
    out_p95_bps = models.FloatField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["interface", "period", "start"], name="rollup_once")]
        indexes = [models.Index(fields=["period", "start"])]

    def __str__(self):
        return f"{self.interface_id} {self.period} {self.start:%Y-%m-%d %H:%M}"


class PollRunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", pgettext_lazy("poll run", "Expired")  # given up, not a waiver's end


class PollRun(models.Model):
    """One poll cycle, for the console's progress and history.

    A run is open while queued or running, and only until its deadline: a run still open past it belongs to a
    poller that was killed, and is marked expired when noticed (collectors.services.polling).
    """

    OPEN = (PollRunStatus.QUEUED, PollRunStatus.RUNNING)

    started_at = models.DateTimeField()  # when it started, or, while queued, when it was asked for
    finished_at = models.DateTimeField(null=True)
    # What the cycle covered: a region path ("/city/nanjiang/"), "city" for the city level's own, "/" for all.
    scope = models.CharField(max_length=400, default="/")
    status = models.CharField(max_length=8, choices=PollRunStatus.choices, default=PollRunStatus.RUNNING,
                              db_index=True)
    deadline_at = models.DateTimeField(null=True)  # open past this instant = dead (see polling.cycle_budget_s)
    error = models.CharField(max_length=300, blank=True)  # why it failed or expired, with a stable code
    devices_polled = models.PositiveIntegerField(default=0)
    devices_failed = models.PositiveIntegerField(default=0)
    interfaces = models.PositiveIntegerField(default=0)
    samples_written = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"poll {self.started_at:%Y-%m-%d %H:%M:%S} {self.status}"

    @property
    def in_progress(self) -> bool:
        return self.status in self.OPEN


class PollLock(models.Model):
    """One part of the network (a county's path, or "city" for the city level's own) polled by one run at a time.

    The unique key is the lock, in whatever database every worker shares (PostgreSQL or SQLite): a second
    cycle's insert fails. A lock counts only while its run is open and before the run's deadline, so a killed
    poller's lock lapses by itself.
    """

    key = models.CharField(max_length=400, unique=True)
    run = models.ForeignKey(PollRun, models.CASCADE, related_name="locks")

    def __str__(self):
        return f"{self.key} → run {self.run_id}"


class ConfigVersion(models.Model):
    """A device's running config, stored only when it changed; `diff` is against the previous version."""

    SCOPE_PATH = "device__site__region__path"

    device = models.ForeignKey(Device, models.CASCADE, related_name="config_versions", verbose_name=_("device"))
    fetched_at = models.DateTimeField(_("fetched at"))
    sha256 = models.CharField(max_length=64)
    text = models.TextField()
    diff = models.TextField(blank=True)
    lines_added = models.PositiveIntegerField(default=0)
    lines_removed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["device", "-fetched_at"]
        get_latest_by = "fetched_at"
        verbose_name = _("config version")
        verbose_name_plural = _("config versions")

    def __str__(self):
        return f"{self.device} {self.fetched_at:%Y-%m-%d %H:%M:%S}"


class ArpEntry(models.Model):
    """IP → MAC as a router saw it: with the MAC table, an address leads to a switch port."""

    device = models.ForeignKey(Device, models.CASCADE, related_name="arp_entries")
    ip = models.GenericIPAddressField()
    mac = models.CharField(max_length=17, db_index=True)
    interface = models.CharField(max_length=64, blank=True)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "ip"], name="arp_once")]
        indexes = [models.Index(fields=["ip"])]

    def __str__(self):
        return f"{self.ip} → {self.mac}"


class MacEntry(models.Model):
    device = models.ForeignKey(Device, models.CASCADE, related_name="mac_entries")
    mac = models.CharField(max_length=17, db_index=True)
    vlan = models.PositiveIntegerField(null=True)
    port = models.CharField(max_length=64)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "mac", "vlan"], name="mac_once")]

    def __str__(self):
        return f"{self.mac} → {self.port}"


class LldpNeighbor(models.Model):
    device = models.ForeignKey(Device, models.CASCADE, related_name="lldp_neighbors")
    local_port = models.CharField(max_length=64)
    neighbor_name = models.CharField(max_length=120)
    neighbor_port = models.CharField(max_length=64, blank=True)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "local_port", "neighbor_name"], name="lldp_once")]

    def __str__(self):
        return f"{self.local_port} → {self.neighbor_name}"


class DeviceAvailability(models.Model):
    """How many polls of a device an hour held, and how many it answered: availability over a day, a week, a month.

    A poll counts once per poll slot (the poll interval the poll fell in, `slot`): a retried or repeated cycle in
    the same slot changes nothing, and one that answers after a failed try in the same slot turns it answered.
    Written by the poll cycle (collectors.services.availability.record_polls); pruned after 35 days, the previous
    calendar month kept whole for its monthly report."""

    SCOPE_PATH = "device__site__region__path"

    device = models.ForeignKey(Device, models.CASCADE, related_name="availability", verbose_name=_("device"))
    hour = models.DateTimeField(_("hour"))  # the start of the hour (UTC) of the poll slots it counts
    polls = models.PositiveIntegerField(_("polls"), default=0)
    answered = models.PositiveIntegerField(_("answered"), default=0)
    last_slot = models.BigIntegerField(default=-1)  # the newest slot counted in `polls`
    last_answered_slot = models.BigIntegerField(default=-1)  # the newest slot counted in `answered`

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "hour"], name="availability_once_per_hour")]
        indexes = [models.Index(fields=["hour"])]
        verbose_name = _("device availability")
        verbose_name_plural = _("device availability")

    def __str__(self):
        return f"{self.device_id} {self.hour:%Y-%m-%d %H:00} {self.answered}/{self.polls}"
