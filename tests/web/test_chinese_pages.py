"""Every console page, rendered in Chinese (zh-Hans) for each role, shows no English word and no raw code.

The pages are walked from the URL patterns (as tests/web/test_scope.py does) with the demo inventory and data on
every table (samples, alerts with a timeline, config versions, changes with their audit, compliance results, a
waiver, egress results), so the labels of choices, the column headers, the empty states and the timelines are all
rendered. The visible text is what a user reads: tags, scripts, styles and attribute values are stripped. What is
left may hold only Chinese, figures, punctuation, the allow-listed proper names and units below, and the data's own
names (devices, interfaces, users, configs: device-supplied strings are shown as they are).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.web.test_scope import DETAIL_OBJECTS, busy_link

pytestmark = pytest.mark.django_db

# Proper names, protocols, vendors, units and file formats: written the same in Chinese text.
PROPER_NAMES = {
    "OneNet", "SNMP", "SNMPv2c", "SNMPv3", "SSH", "ACL", "VRP", "Comware", "IOS", "Huawei", "H3C", "Cisco", "Ruijie",
    "RGOS", "CSV", "XLSX", "IP", "IPv4", "MAC", "LLDP", "ARP", "NTP", "SMB", "SMBv1", "EternalBlue", "DoublePulsar",
    "MS17-010", "WannaCry", "Suricata", "EVE", "pcap", "pcapng", "sysDescr", "sysObjectID", "sysUpTime", "ifAlias",
    "NAT", "VLAN", "MLPS", "Django", "UTC", "Asia/Shanghai", "bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s", "bps",
    "ms", "s", "KB", "MB", "GB", "KiB", "MiB", "GiB", "TCP", "UDP", "ICMP", "DNS", "URL", "JSON", "API", "ID", "P95",
    "syslog", "ifIndex", "ifName", "A", "B",  # "A 端", "B 端": a link's two ends
    "Telnet", "HTTP", "HTTPS", "Web", "NetBIOS", "SMB/NetBIOS", "MS-RPC", "VTY", "GB/T", "public", "private",
    "English",  # the language menu names each language in its own language
}
CLAUSE = re.compile(r"\b\d+(?:\.\d+)+\s*[a-z]\)")  # a clause of a standard (GB/T 22239 8.1.4.1 c)), not a word
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_./][A-Za-z0-9]+)*")
ROLES = {  # role → (username, region)
    "manager": ("zh-manager", None),
    "security": ("zh-security", None),
    "engineer": ("zh-engineer", "nanjiang"),
    "admin": ("zh-admin", None),
}
NOT_PAGES = {"bandwidth:link_series", "changes:progress"}  # JSON for the pages' scripts, not pages
DOWNLOADS = {"changes:audit_export", "changes:device_audit_export", "compliance:mlps_export"}
POST_ONLY = {"bandwidth:collect", "accept_host_key", "compliance:waiver_expire", "changes:act", "changes:resolve",
             "changes:from_findings", "changes:egress_rollout", "changes:contain"}


class VisibleText(HTMLParser):
    """The text a user reads: no tags, attribute values, scripts or styles, nor config text (`pre`, `code`: the
    devices' own commands and the lines OneNet renders for them, in the vendor's syntax)."""

    HIDDEN = {"script", "style", "template", "pre", "code"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def foreign_words(text: str, allowed: set[str]) -> list[str]:
    text = CLAUSE.sub(" ", text)
    return sorted({token for token in TOKEN.findall(text)
                   if token not in allowed and token not in PROPER_NAMES and not _is_data_like(token, allowed)})


def _is_data_like(token: str, allowed: set[str]) -> bool:
    # An address (IPv6, MAC), or a part of a data name cut by the page (never a plain word: "link" inside a device's
    # description does not excuse the word "link" in a page).
    if re.fullmatch(r"[0-9a-fA-F:.-]+", token) and re.search(r"\d", token):
        return True
    return not token.isalpha() and any(token in word for word in allowed)


@pytest.fixture
def console_data(demo_inventory, make_user):
    """Something on every table, for both counties: samples, configs, alerts with a timeline, findings, changes."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from changes.choices import Action, TaskStatus
    from changes.models import ChangeRequest, ChangeTask
    from changes.services import audit
    from collectors.models import ConfigVersion, DeviceState, InterfaceRollup, InterfaceSample
    from egress.services.verify import verify_devices
    from inventory.models import Device
    from policies.models import RuleResult, Waiver
    from threat.models import Alert
    from threat.services.alerts import add_note, assign, change_status, ingest_alerts

    now = timezone.now()
    users = {role: make_user(name, role if role != "admin" else "admin", region=region, superuser=role == "admin")
             for role, (name, region) in ROLES.items()}
    author = get_user_model().objects.create_user("zh-author", password="x" * 12)
    for slug in ("nanjiang", "zhongxin"):
        link = busy_link(slug)
        busy = link.capacity_bps * 0.9
        for minutes in range(0, 60, 5):
            InterfaceSample.objects.create(interface=link.a_interface, time=now - timezone.timedelta(minutes=minutes),
                                           in_bps=busy, out_bps=busy / 3, in_utilisation=0.9, out_utilisation=0.3)
        start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        for day in range(4):
            InterfaceRollup.objects.create(interface=link.a_interface, period="day", samples=288,
                                           start=start - timezone.timedelta(days=day), in_max_bps=busy,
                                           out_max_bps=busy, in_avg_bps=busy / 2, out_avg_bps=busy / 2)
        device = Device.objects.select_related("site__region").get(name=f"{slug}-agg-1")
        ConfigVersion.objects.create(device=device, fetched_at=now, sha256="b", lines_added=1,
                                     text=f"sysname {slug}-agg-1\nntp-service unicast-server 10.0.250.11\n",
                                     diff="+ntp-service unicast-server 10.0.250.11")
        DeviceState.objects.update_or_create(device=device, defaults={
            "snmp_state": "up", "last_poll_at": now, "last_poll_ok_at": now, "backup_state": "ok",
            "last_backup_at": now, "last_backup_ok_at": now})
        RuleResult.objects.create(device=device, rule="mgmt.ssh-only", status="fail", severity="high",
                                  evidence=[[23, "protocol inbound all"]], remediation=["protocol inbound ssh"],
                                  checked_at=now, since=now)
        RuleResult.objects.create(device=device, rule="ntp.configured", status="pass", severity="medium",
                                  evidence=[], remediation=[], checked_at=now, since=now)
        Waiver.objects.create(device=device, rule="ntp.configured", owner=author, reason="固件待升级",
                              expires_at=now + timezone.timedelta(days=30))
        change = ChangeRequest.objects.create(title=f"{slug}-ntp-change", reason="配置时间服务器",
                                              region=device.site.region, author=author,
                                              status="awaiting_approval", targets=device.name)
        ChangeTask.objects.create(change=change, device=device, lines=["ntp-service unicast-server 10.0.250.11"],
                                  diff="+ntp-service unicast-server 10.0.250.11", status=TaskStatus.NEEDS_ATTENTION)
        audit.record(change, Action.CREATED, author, device=device, message="")
    unreachable = Device.objects.get(name="nanjiang-t01-ar")
    DeviceState.objects.update_or_create(device=unreachable, defaults={
        "snmp_state": "unreachable", "last_poll_at": now, "backup_state": "failed", "last_backup_at": now})
    ingest_alerts([{"kind": kind, "severity": severity, "src": src, "dst": "10.16.9.9", "dport": 445,
                    "first_seen": "2026-05-12T08:00:00Z", "last_seen": "2026-05-12T08:00:01Z", "count": 3,
                    "evidence": [f"from {src}"]}
                   for kind, severity, src in (("eternalblue", "critical", "10.19.1.77"),
                                               ("eternalblue", "critical", "10.16.1.77"),
                                               ("smb-scan", "medium", "10.19.1.78"))], "pcap",
                  locate=False)
    analyst = users["security"]
    for alert in Alert.objects.filter(kind="eternalblue"):
        change_status(alert, "acknowledged", analyst, "正在处置")
        assign(alert, analyst, analyst)
        add_note(alert, analyst, "已通知县级工程师")
    verify_devices()
    return users


def data_words() -> set[str]:
    """The names a page may show as they are: devices, interfaces, users, configs, changes, rules, error codes."""
    from django.contrib.auth import get_user_model

    from changes.models import ChangeRequest, ChangeTask
    from collectors.models import ConfigVersion
    from egress.services.policy import default_policy
    from inventory.models import Agency, Device, Interface, Prefix, Region, Site
    from policies.models import RuleResult
    from policies.rules import load_rules
    from threat.models import Alert
    from web.errors import CATALOGUE

    words = set(CATALOGUE)
    words |= set(Device.objects.values_list("name", flat=True))
    words |= set(Device.objects.values_list("model", flat=True))
    words |= set(Device.objects.values_list("os_version", flat=True))
    words |= set(Interface.objects.values_list("name", flat=True))
    words |= set(Interface.objects.values_list("description", flat=True))
    words |= set(Prefix.objects.values_list("description", flat=True))
    words |= set(Region.objects.values_list("slug", flat=True)) | set(Site.objects.values_list("slug", flat=True))
    words |= set(Agency.objects.values_list("slug", flat=True))
    words |= set(get_user_model().objects.values_list("username", flat=True))
    words |= set(ChangeRequest.objects.values_list("title", flat=True))
    words |= set(RuleResult.objects.values_list("rule", flat=True))
    for text in ConfigVersion.objects.values_list("text", flat=True):
        words |= set(text.split())
    for lines in ChangeTask.objects.values_list("lines", flat=True):
        words |= set(" ".join(lines).split())
    for evidence in RuleResult.objects.values_list("evidence", flat=True):
        words |= {word for item in evidence for word in str(item[-1]).split()}
    for evidence in Alert.objects.values_list("evidence", flat=True):
        words |= {word for item in evidence for word in str(item).split()}
    words |= {port.name for port in default_policy().blocked_ports}  # the egress policy file's own names
    for rule in load_rules().rules:
        words.add(rule.id)
        for checks in rule.checks.values():
            for check in checks:
                words |= set(" ".join(check.fix).split())
    return {part for word in words if word for part in (word, *word.split())}


def console_pages():
    """(url, name) of every page a browser shows, from the URL patterns: each URL without arguments, and each
    detail URL with its Nanjiang object (tests/web/test_scope.py's DETAIL_OBJECTS names one for every detail view)."""
    from django.urls import NoReverseMatch

    from tests.web.test_scope import console_url_names

    pages = []
    for name in sorted(console_url_names() - NOT_PAGES - DOWNLOADS - POST_ONLY):
        try:
            pages.append((reverse(name), name))
        except NoReverseMatch:
            if name in DETAIL_OBJECTS:
                pages.append((reverse(name, args=[DETAIL_OBJECTS[name]("nanjiang")]), name))
    return pages


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_console_page_is_in_chinese_for_each_role(client, console_data, role):
    client.force_login(console_data[role])
    client.cookies["django_language"] = "zh-hans"
    allowed = data_words()
    failures, seen = [], 0
    for url, _name in console_pages():
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        # the role may not see this page (its refusal page is checked below), a POST-only action, or a download
        if response.status_code in (403, 404, 405) or "text/html" not in response.get("Content-Type", ""):
            continue
        assert response.status_code == 200, (url, response.status_code)
        seen += 1
        words = foreign_words(visible_text(response.content.decode()), allowed)
        if words:
            failures.append(f"{url}: {' '.join(words)}")
    assert seen >= 10, seen
    assert not failures, "English words or raw codes in zh-Hans pages:\n" + "\n".join(failures)


@pytest.mark.parametrize("url", ["/no-such-page/", "/inventory/devices/999999/"])
def test_the_not_found_page_is_chinese_and_branded(client, console_data, url):
    client.force_login(console_data["engineer"])
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 404
    text = visible_text(response.content.decode())
    assert "OneNet" in text and "未找到" in text, text
    assert not foreign_words(text, data_words()), text


def test_the_forbidden_page_is_chinese_and_branded(client, demo_inventory, django_user_model):
    client.force_login(django_user_model.objects.create_user("zh-nobody", password="x" * 12))
    response = client.get(reverse("inventory:devices"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 403
    text = visible_text(response.content.decode())
    assert "OneNet" in text and "无权" in text, text
    assert not foreign_words(text, {"zh-nobody"}), text


def test_the_server_error_page_is_chinese_and_branded(rf, settings):
    from django.template import loader

    settings.LANGUAGE_CODE = "zh-hans"
    from django.utils import translation

    with translation.override("zh-hans"):
        text = visible_text(loader.get_template("500.html").render({}))
    assert "OneNet" in text and "出错" in text, text
    assert not foreign_words(text, set()), text


def test_an_error_an_operator_sees_is_explained_in_chinese():
    from django.utils import translation

    from web.errors import CATALOGUE, OneNetError

    with translation.override("zh-hans"):
        missing = [code for code in CATALOGUE if OneNetError(code, "x").advice() == CATALOGUE[code]]
        shown = OneNetError("CHANGE_NO_TARGETS", "no device in scope").for_page()
    assert not missing, f"catalogue sentences without a Chinese translation: {missing}"
    assert shown.startswith("CHANGE_NO_TARGETS: 在您负责的网络范围内至少选择一台设备"), shown
    assert shown.endswith("（no device in scope）"), shown  # the particulars of the raise are kept
