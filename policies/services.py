"""Compliance of the inventory: check stored configs, keep the results and their history, score them.

`check_devices` checks each device's latest stored config (collectors.ConfigVersion) and keeps one
`RuleResult` per device and rule; a verdict that changes also writes a `RuleEvent`. It runs after every
backup that changed a config (the `config_changed` signal), on demand (`manage.py compliance run`), and its
results feed the console's scores, where failures an active waiver covers count as waived, apart.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter, defaultdict
from datetime import timedelta

from django.db import transaction
from django.db.models import Case, CharField, Count, F, Q, Value, When
from django.utils import timezone

import platforms
from collectors.models import ConfigVersion
from collectors.services.configs import shows_secrets
from inventory.models import Device, Region, Site
from policies.choices import Status
from policies.engine import Finding, check_config
from policies.models import RuleEvent, RuleResult, ScoreSnapshot, Waiver
from web.access import WHOLE_NETWORK, scope_path
from web.errors import OneNetError
from web.tables import escape_controls

log = logging.getLogger(__name__)


def device_context(device: Device):
    from egress.services import DeviceContext

    return DeviceContext.from_device(device)


def check_device(device: Device, version: ConfigVersion | None = None, context=None) -> list[Finding]:
    """Check the device's latest stored config (or `version`) and store the results; [] when none is stored.
    `context`: what the inventory knows of it (egress.services.DeviceContext), looked up when not given."""
    version = version or ConfigVersion.objects.filter(device=device).order_by("-fetched_at", "-pk").first()
    if version is None:
        return []
    try:
        findings = check_config(device.platform, version.text, device.role, context or device_context(device))
    except OneNetError as error:  # an unknown platform: one error finding, the other devices go on
        findings = [Finding("config.parse", Status.ERROR, "high", "The config can be read", str(error))]
    store(device, version, findings)
    return findings


def store(device: Device, version: ConfigVersion, findings: list[Finding]) -> None:
    now = timezone.now()
    with transaction.atomic():
        existing = {r.rule: r for r in RuleResult.objects.select_for_update().filter(device=device)}
        seen = set()
        for finding in findings:
            seen.add(finding.rule)
            result = existing.get(finding.rule)
            values = {"status": finding.status, "severity": finding.severity, "message": finding.message[:500],
                      "evidence": [list(e) for e in finding.evidence], "remediation": finding.remediation,
                      "config_version": version, "checked_at": now}
            if result is None:
                RuleResult.objects.create(device=device, rule=finding.rule, since=now, **values)
                RuleEvent.objects.create(device=device, rule=finding.rule, time=now, previous="",
                                         status=finding.status, config_version=version)
                continue
            if result.status != finding.status:
                RuleEvent.objects.create(device=device, rule=finding.rule, time=now, previous=result.status,
                                         status=finding.status, config_version=version)
                result.since = now
            for key, value in values.items():
                setattr(result, key, value)
            result.save()
        RuleResult.objects.filter(device=device).exclude(rule__in=seen).delete()  # rules that no longer exist


def check_devices(devices) -> dict:
    """Check every device given (those without a stored config are counted, not failed)."""
    started = time.monotonic()
    from egress.services import DeviceContext

    checked, failing, not_stored = 0, Counter(), []
    devices = list(devices.select_related("site__region"))
    contexts = DeviceContext.for_devices(devices)  # one query for the whole inventory's links
    for device in devices:
        findings = check_device(device, context=contexts.get(device.pk))
        if not findings:
            not_stored.append(device.name)
            continue
        checked += 1
        failing.update(f.rule for f in findings if f.status in (Status.FAIL, Status.ERROR))
    if checked:
        snapshot_scores()  # today's point of the trend follows the run
    return {"devices_checked": checked, "devices_without_config": len(not_stored), "failing": dict(failing),
            "seconds": round(time.monotonic() - started, 2)}


# -- waivers and scores ---------------------------------------------------------------------------------------------
def waived_pairs(results) -> set[tuple[int, str]]:
    """(device id, rule) of the failing results an active waiver covers."""
    waived = set()
    failing = results.filter(status__in=(Status.FAIL, Status.ERROR))
    for waiver in Waiver.objects.active().select_related("region"):
        matched = failing
        if waiver.device_id:
            matched = matched.filter(device_id=waiver.device_id)
        if waiver.region_id:
            matched = matched.filter(device__site__region__path__startswith=waiver.region.path)
        if waiver.rule:
            matched = matched.filter(rule=waiver.rule)
        waived.update(matched.values_list("device_id", "rule"))
    return waived


def shown_status(result: RuleResult, waived: set[tuple[int, str]]) -> str:
    """The status a page shows: a failure an active waiver covers shows as waived."""
    return "waived" if (result.device_id, result.rule) in waived else result.status


def scores(results, key: str) -> list[dict]:
    """Per value of `key` (an ORM path such as "rule" or "device__site__region__path"): pass, fail, waived and
    not-applicable counts and the score (passes over what was judged and not waived), worst first."""
    waived = waived_pairs(results)
    groups: dict[str, Counter] = defaultdict(Counter)
    for device_id, rule, status, group in results.values_list("device_id", "rule", "status", key):
        counts = groups[group]
        counts["waived" if (device_id, rule) in waived else status] += 1
    rows = []
    for group, counts in groups.items():
        judged = counts[Status.PASS] + counts[Status.FAIL] + counts[Status.ERROR]
        rows.append({"key": group, "pass": counts[Status.PASS], "fail": counts[Status.FAIL] + counts[Status.ERROR],
                     "waived": counts["waived"], "not_applicable": counts[Status.NOT_APPLICABLE],
                     "score": round(100 * counts[Status.PASS] / judged, 1) if judged else None})
    return sorted(rows, key=lambda r: (r["score"] if r["score"] is not None else 101, str(r["key"])))


# -- the console: statuses as shown, scores grouped in the database, the daily trend --------------------------------
# A page shows a failure an active waiver covers as "waived"; scores count it apart (neither pass nor fail).
WAIVED = "waived"
FAILING = (Status.FAIL, Status.ERROR)
SNAPSHOT_LEVELS = ("city", "county", "township")  # villages roll up into their township's row


def waived_condition(at=None) -> Q | None:
    """The failing results an active waiver covers, as one condition (the SQL twin of `waived_pairs`); None when no
    waiver is active. Waivers are grouped (per device, per rule, per region) so the condition stays a few dozen
    terms however many waivers there are: SQLite refuses an expression nested deeper than 1,000."""
    whole_devices, device_rules, everywhere, region_rules = set(), defaultdict(set), set(), defaultdict(set)
    for device_id, region_path, rule in Waiver.objects.active(at).values_list("device_id", "region__path", "rule"):
        if device_id and not rule:
            whole_devices.add(device_id)
        elif device_id:
            device_rules[rule].add(device_id)
        elif region_path:
            region_rules[region_path].add(rule)
        else:
            everywhere.add(rule)
    terms = ([Q(device_id__in=sorted(whole_devices))] if whole_devices else []) + \
        [Q(rule=rule, device_id__in=sorted(ids)) for rule, ids in sorted(device_rules.items())] + \
        ([Q(rule__in=sorted(everywhere))] if everywhere else []) + \
        [Q(device__site__region__path__startswith=path, rule__in=sorted(rules))
         for path, rules in sorted(region_rules.items())]
    if not terms:
        return None
    covered = Q()
    for term in terms:
        covered |= term
    return Q(status__in=FAILING) & covered


def with_shown_status(results, at=None):
    """`results` annotated with `shown`: "waived" for a failure an active waiver covers, else the status."""
    covered = waived_condition(at)
    if covered is None:
        return results.annotate(shown=F("status"))
    return results.annotate(shown=Case(When(covered, then=Value(WAIVED)), default=F("status"),
                                       output_field=CharField()))


def count_by(results, key: str) -> dict:
    """{value of `key` (an ORM path): Counter of shown statuses}, in one GROUP BY (no row per result in Python)."""
    counts: dict = defaultdict(Counter)
    for row in with_shown_status(results).order_by().values(key, "shown").annotate(n=Count("pk")):
        counts[row[key]][row["shown"]] += row["n"]
    return counts


def score_row(counts: Counter, **extra) -> dict:
    """Counts as `scores` gives them (errors count as failures, waived apart) and the score in percent."""
    passed, failed = counts[Status.PASS], counts[Status.FAIL] + counts[Status.ERROR]
    return {"pass": passed, "fail": failed, "waived": counts[WAIVED], "not_applicable": counts[Status.NOT_APPLICABLE],
            "score": round(100 * passed / (passed + failed), 1) if passed + failed else None, **extra}


def total(counters) -> Counter:
    out = Counter()
    for counts in counters:
        out.update(counts)
    return out


def region_counts(results, root: Region | None, children: list[Region], by_region: dict | None = None) -> dict:
    """Shown-status counts of `results` under `root`: the whole (`total`), each child region's subtree
    (`children`: {pk: Counter}) and the root's own sites (`own`: for the city, its agencies and sites, 市直单位).
    `by_region`: the counts per region id when the caller has them already (sites_and_agencies)."""
    by_region = count_by(results, "device__site__region_id") if by_region is None else by_region
    paths = dict(Region.objects.filter(pk__in=[pk for pk in by_region if pk]).values_list("pk", "path"))
    depth = root.path.count("/") if root else 1
    child_by_slug = {child.slug: child.pk for child in children}
    out = {"total": Counter(), "own": Counter(), "children": {child.pk: Counter() for child in children}}
    for region_id, counts in by_region.items():
        path = paths.get(region_id, "")
        out["total"].update(counts)
        if root is not None and path == root.path:
            out["own"].update(counts)
            continue
        parts = path.split("/")
        child = child_by_slug.get(parts[depth]) if len(parts) > depth else None
        if child is not None:
            out["children"][child].update(counts)
    return out


def by_region_and_agency(results) -> tuple[dict, dict]:
    """({region id: Counter}, {agency id or None: Counter}) of `results` in one scan (grouped per site)."""
    by_site = count_by(results, "device__site_id")
    by_region, by_agency = defaultdict(Counter), defaultdict(Counter)
    for site_id, region_id, agency_id in Site.objects.filter(pk__in=list(by_site)).values_list(
            "pk", "region_id", "agency_id"):
        by_region[region_id].update(by_site[site_id])
        by_agency[agency_id].update(by_site[site_id])
    return by_region, by_agency


def snapshot_scores(day=None) -> dict:
    """Today's (or `day`'s) counts of every city, county and township subtree, replacing that day's rows: run
    hourly, a day keeps its last state. A few hundred rows a day; the trend then reads ~30 per series."""
    day = day or timezone.localdate()
    now = timezone.now()
    by_region = count_by(RuleResult.objects.all(), "device__site__region_id")
    devices = dict(RuleResult.objects.order_by().values("device__site__region_id")
                   .annotate(n=Count("device_id", distinct=True)).values_list("device__site__region_id", "n"))
    paths = dict(Region.objects.values_list("pk", "path"))
    kept = dict(Region.objects.filter(level__in=SNAPSHOT_LEVELS).values_list("path", "pk"))
    totals: dict[int, Counter] = defaultdict(Counter)
    device_totals: Counter = Counter()
    for region_id, counts in by_region.items():
        path = paths.get(region_id, "")
        for index, char in enumerate(path):
            if char == "/" and index and path[:index + 1] in kept:
                ancestor = kept[path[:index + 1]]
                totals[ancestor].update(counts)
                device_totals[ancestor] += devices.get(region_id, 0)
    rows = [ScoreSnapshot(date=day, region_id=region_id, passed=counts[Status.PASS],
                          failed=counts[Status.FAIL] + counts[Status.ERROR], waived=counts[WAIVED],
                          not_applicable=counts[Status.NOT_APPLICABLE], devices=device_totals[region_id], taken_at=now)
            for region_id, counts in totals.items()]
    with transaction.atomic():
        ScoreSnapshot.objects.filter(date=day).delete()  # a region whose results all went away keeps no stale row
        ScoreSnapshot.objects.bulk_create(rows)
    return {"date": day.isoformat(), "regions": len(rows)}


def _snapshot_counts(snapshot: ScoreSnapshot) -> Counter:
    return Counter({Status.PASS: snapshot.passed, Status.FAIL: snapshot.failed, WAIVED: snapshot.waived,
                    Status.NOT_APPLICABLE: snapshot.not_applicable})


def score_trend(root: Region | None, children: list[Region], days: int, today: dict) -> dict:
    """Daily scores for `days` days up to today: the whole scope, each child region and the root's own sites.
    Past days come from ScoreSnapshot (None where no snapshot was taken); today from `today` (region_counts)."""
    last = timezone.localdate()
    dates = [last - timedelta(days=n) for n in range(days - 1, -1, -1)]
    wanted = [child.pk for child in children] + ([root.pk] if root else [])
    stored = {(s.region_id, s.date): _snapshot_counts(s) for s in ScoreSnapshot.objects.filter(
        region_id__in=wanted, date__gte=dates[0], date__lt=last)}
    scope, own, per_child = [], [], {child.pk: [] for child in children}
    for day in dates[:-1]:
        child_counts = {child.pk: stored.get((child.pk, day)) for child in children}
        whole = stored.get((root.pk, day)) if root else None
        if root is None and any(c is not None for c in child_counts.values()):
            whole = total(c for c in child_counts.values() if c is not None)
        scope.append(score_row(whole)["score"] if whole is not None else None)
        for pk, counts in child_counts.items():
            per_child[pk].append(score_row(counts)["score"] if counts is not None else None)
        rest = whole - total(c for c in child_counts.values() if c is not None) if whole is not None else None
        own.append(score_row(rest)["score"] if rest is not None else None)
    scope.append(score_row(today["total"])["score"])
    own.append(score_row(today["own"])["score"])
    for pk in per_child:
        per_child[pk].append(score_row(today["children"][pk])["score"])
    return {"dates": [d.isoformat() for d in dates], "scope": scope, "own": own, "children": per_child}


class ActiveWaivers:
    """The active waivers, to name the one that covers a waived result (exports show its reason and expiry)."""

    def __init__(self, at=None):
        self.waivers = list(Waiver.objects.active(at).select_related("region", "owner").order_by("-expires_at"))

    def covering(self, device_id: int, rule: str, region_path: str) -> Waiver | None:
        for waiver in self.waivers:  # the one that lasts longest first
            if (waiver.device_id in (None, device_id) and waiver.rule in ("", rule)
                    and (waiver.region_id is None or region_path.startswith(waiver.region.path))):
                return waiver
        return None


def waivers_for_device(device: Device):
    """Every waiver, active or expired, whose scope takes in `device`: its own, its regions' and the rule-wide ones."""
    path = device.site.region.path
    ancestors = [path[:i + 1] for i, char in enumerate(path) if char == "/"][1:]
    return Waiver.objects.filter(Q(device=device) | Q(device__isnull=True, region__isnull=True)
                                 | Q(device__isnull=True, region__path__in=ancestors))


def wider_waivers(scope: str):
    """The waivers set above a scoped user's region (rule-wide, or on a region that contains theirs): they cover
    the user's devices, so the user is shown them, read only. None for a whole-network user (they see all)."""
    ancestors = [scope[:i + 1] for i, char in enumerate(scope) if char == "/"][1:-1]
    return Waiver.objects.filter(Q(device__isnull=True, region__isnull=True)
                                 | Q(device__isnull=True, region__path__in=ancestors))


# GB/T 22239-2019 (MLPS 2.0), level 3: the sections the baseline's clauses fall in (a clause is "8.1.4.1 c)").
MLPS_SECTIONS = {
    "8.1.3.1": ("安全区域边界—边界防护", "Security area boundary: boundary protection"),
    "8.1.3.2": ("安全区域边界—访问控制", "Security area boundary: access control"),
    "8.1.3.3": ("安全区域边界—入侵防范", "Security area boundary: intrusion prevention"),
    "8.1.3.5": ("安全区域边界—安全审计", "Security area boundary: security audit"),
    "8.1.4.1": ("安全计算环境—身份鉴别", "Security computing environment: identification and authentication"),
    "8.1.4.2": ("安全计算环境—访问控制", "Security computing environment: access control"),
    "8.1.4.3": ("安全计算环境—安全审计", "Security computing environment: security audit"),
    "8.1.4.4": ("安全计算环境—入侵防范", "Security computing environment: intrusion prevention"),
    "8.1.4.7": ("安全计算环境—数据完整性", "Security computing environment: data integrity"),
    "8.1.4.8": ("安全计算环境—数据保密性", "Security computing environment: data confidentiality"),
}


def mlps_section(clause: str) -> tuple[str, str]:
    return MLPS_SECTIONS.get(clause.split(" ")[0], ("", ""))


# -- what a user may see of a config line ---------------------------------------------------------------------------
NEGATIONS = ("undo ", "no ")
QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


class VisibleLines:
    """Config lines as one user may see them: control characters shown visibly (\\x1b), and, for every role but
    admin, secrets masked by the platform's rules, also in negated lines (`undo …`, `no …`) of a remediation."""

    def __init__(self, user, slug: str):
        self.mask = None
        if not shows_secrets(user):
            try:
                self.mask = platforms.get(slug).mask_secrets
            except OneNetError:  # an unknown platform: no rule to mask with, so nothing of its lines is shown
                self.mask = lambda text: "\n".join("<secret>" if line.strip() else line for line in text.split("\n"))

    def lines(self, lines: list[str]) -> list[str]:
        lines = [escape_controls(str(line)) for line in lines]  # one line each: a \n inside is shown as \x0a
        if self.mask is None or not lines:
            return lines
        heads, bodies = [], []
        for line in lines:
            body = line.lstrip()
            indent = line[:len(line) - len(body)]
            negation = next((n for n in NEGATIONS if body.startswith(n)), "")
            heads.append(negation)
            bodies.append(indent + body[len(negation):])
        masked = self.mask("\n".join(bodies)).split("\n")  # whole, so a secret's section is known
        out = []
        for head, line in zip(heads, masked, strict=True):
            body = line.lstrip()
            out.append(line[:len(line) - len(body)] + head + body)
        return out

    def evidence(self, evidence) -> list[tuple[int, str]]:
        numbers = [item[0] if isinstance(item, list | tuple) and item else "" for item in evidence or []]
        texts = [item[1] if isinstance(item, list | tuple) and len(item) > 1 else item for item in evidence or []]
        return list(zip(numbers, self.lines(texts), strict=True))

    def message(self, message: str) -> str:
        message = escape_controls(message or "")
        if self.mask is None:
            return message
        return QUOTED.sub(lambda m: m.group(0)[0] + self.lines([m.group(0)[1:-1]])[0] + m.group(0)[-1], message)


# -- the console's regions and waivers, and the MLPS workbook's sheet names ------------------------------------------
def scope_root(user) -> Region | None:
    """The region at the top of the user's scope: theirs, or the city for the whole network (None when the tree has
    several roots)."""
    path = scope_path(user)
    if path == WHOLE_NETWORK:
        roots = list(Region.objects.filter(parent__isnull=True)[:2])
        return roots[0] if len(roots) == 1 else None
    return Region.objects.filter(path=path).first()


def annotate_waivers(waivers):
    now = timezone.now()
    return waivers.annotate(
        kind=Case(When(device__isnull=False, then=Value("device")), When(region__isnull=False, then=Value("region")),
                  default=Value("everywhere"), output_field=CharField()),
        state=Case(When(expires_at__gt=now, then=Value("active")), default=Value("expired"),
                   output_field=CharField()))


SHEET_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")


def clause_key(clause: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", clause)]


def sheet_name(clause: str, taken: set[str]) -> str:
    """A worksheet title Excel accepts: ≤ 31 characters, none of \\ / * ? : [ ], no quote at either end, unique."""
    base = SHEET_FORBIDDEN.sub("_", clause).strip("'")[:31] or "clause"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name
