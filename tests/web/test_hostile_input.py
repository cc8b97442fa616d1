"""Hostile query strings never make a 500; exports and terminal output survive hostile device strings."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from openpyxl import load_workbook

from collectors.models import ConfigVersion
from inventory.models import Device, Interface, Link
from threat.models import Alert
from web.tables import escape_controls, export_response, safe_cell

pytestmark = pytest.mark.django_db

NOT_CONSOLE = {"login", "logout", "set_language", "healthz", "metrics"}


def console_url_names(patterns=None, namespace=""):
    names = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name != "admin":
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                names |= console_url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name and pattern.name not in NOT_CONSOLE:
            names.add(namespace + pattern.name)
    return names


def nanjiang_link():
    return Link.objects.get(b_interface__device__name="nanjiang-t01-ar")


# Views that take an object: an object in the Nanjiang engineer's scope, so the view reads its query string.
DETAIL_ARGS = {
    "inventory:device": lambda: Device.objects.get(name="nanjiang-agg-1").pk,
    "inventory:site": lambda: Device.objects.get(name="nanjiang-agg-1").site_id,
    "bandwidth:link": lambda: nanjiang_link().pk,
    "bandwidth:link_series": lambda: nanjiang_link().pk,
    "config_version": lambda: ConfigVersion.objects.get().pk,
    "threat:alert": lambda: Alert.objects.get().pk,
}

# Each query alone; values a hand-edited URL, a stale bookmark or a scanner sends.
HOSTILE_QUERIES = [
    {"sort": "--name"}, {"sort": "-"}, {"sort": "--"}, {"sort": "nope"}, {"sort": "-site__secret"},
    {"sort": "name\x00"}, {"page": "999999"}, {"page": "x"}, {"page": "-1"}, {"page": "9" * 30},
    {"q": "\x00"}, {"q": "%_\\"}, {"q": "x" * 3000}, {"export": "pdf"}, {"export": "xlsx", "sort": "--name"},
    {"county": "\x00"}, {"county": "/"}, {"county": "%"}, {"platform": "junos"}, {"status": "\x00"},
    {"level": "x"}, {"expected": "maybe"}, {"expected": "true"}, {"tier": "bogus\x00"}, {"severity": "x"},
    {"agency": "\x00"}, {"site": "abc"}, {"region": "\x00"}, {"region": "nanjiang/evil"}, {"lookup": "\x00"},
    {"lookup": "1.2.3.4/33"}, {"threshold": "nan"}, {"threshold": "-1e999"}, {"days": "9" * 30},
    {"window": "x"}, {"range": "\x00"}, {"range": "9999d"},
]


@pytest.fixture
def county_client(client, demo_inventory, make_user):
    from django.utils import timezone

    from threat.services.alerts import ingest_alerts

    ConfigVersion.objects.create(device=Device.objects.get(name="nanjiang-agg-1"), fetched_at=timezone.now(),
                                 sha256="x", text="sysname nanjiang-agg-1\n")
    ingest_alerts([{"kind": "eternalblue", "severity": "critical", "src": "10.19.1.77", "dst": None, "dport": 445,
                    "first_seen": "2026-05-12T08:00:00Z", "last_seen": "2026-05-12T08:00:01Z", "count": 1,
                    "evidence": ["x"]}], "pcap", locate=False)
    client.force_login(make_user("engineer-nj", "engineer", region="nanjiang"))
    return client


def test_no_hostile_query_string_makes_a_server_error_on_any_console_page(county_client):
    county_client.raise_request_exception = False  # collect every failure, not only the first
    names = console_url_names()
    # A view with an argument and no case of its own gets the in-scope device (detail views hang off devices).
    device_pk = DETAIL_ARGS["inventory:device"]
    urls = []
    for name in sorted(names):
        try:
            urls.append(reverse(name))
        except NoReverseMatch:
            urls.append(reverse(name, args=[DETAIL_ARGS.get(name, device_pk)()]))
    failures = []
    for url in urls:
        for query in HOSTILE_QUERIES:
            status = county_client.get(url, query).status_code
            if status >= 500:
                failures.append((url, query, status))
    assert failures == []


@pytest.fixture
def manager_client(client, demo_inventory, make_user):
    client.force_login(make_user("amy", "manager"))
    return client


@pytest.mark.parametrize("sort", ["--name", "-", "--", "nope", "-site__secret", "name\x00", "-name-"])
def test_a_malformed_sort_falls_back_to_the_default_order(manager_client, sort):
    response = manager_client.get(reverse("inventory:devices"), {"sort": sort})
    assert response.status_code == 200 and response.context["sort"] == "name"
    names = [row["cells"][0] for row in response.context["rows"]]
    assert names == sorted(names)


@pytest.mark.parametrize("name", ["inventory:devices", "inventory:sites", "inventory:agencies", "inventory:prefixes",
                                  "inventory:links", "threat:alerts"])
def test_every_filter_choice_a_list_offers_filters_and_other_values_are_ignored(manager_client, name):
    unfiltered = manager_client.get(reverse(name)).context["total"]
    for flt in manager_client.get(reverse(name)).context["filters"]:
        for value, _label in flt["choices"]:
            response = manager_client.get(reverse(name), {flt["name"]: value})
            assert response.status_code == 200
            assert {f["name"]: f["value"] for f in response.context["filters"]}[flt["name"]] == str(value)
        ignored = manager_client.get(reverse(name), {flt["name"]: "no-such-value"})
        assert ignored.status_code == 200 and ignored.context["total"] == unfiltered


def test_the_site_list_filters_on_expected(manager_client):
    from inventory.models import Site

    response = manager_client.get(reverse("inventory:sites"), {"expected": "0"})
    assert response.context["total"] == Site.objects.filter(expected=False).count()


# (value from a device, the cell an export must hold)
CELLS = [
    ("plain 南江 text", "plain 南江 text"),
    (None, None),  # not last: a spreadsheet has no trailing empty rows
    ("Gi0/0/1\x01", "Gi0/0/1\\x01"),
    ("\x1b[2Jcleared", "\\x1b[2Jcleared"),
    ("csi\x9b31m", "csi\\x9b31m"),
    ("del\x7f", "del\\x7f"),
    ("nul\x00", "nul\\x00"),
    ("two\r\nlines", "two\\x0d\\x0alines"),
    ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"),
    ("\t=1+1", "\\x09=1+1"),
    ("-2", "'-2"),
    (42, 42),
]


@pytest.mark.parametrize("value, cell", CELLS, ids=[repr(c[0])[:20] for c in CELLS])
def test_an_export_cell_is_made_safe(value, cell):
    assert safe_cell(value) == cell


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_export_holds_every_hostile_cell_visibly_escaped(kind):
    response = export_response(["name\x01"], ([value] for value, _ in CELLS), kind, "test")
    assert response.status_code == 200
    if kind == "csv":
        cells = [row[0] if row else "" for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))]
        expected = ["" if cell is None else str(cell) for _, cell in CELLS]
    else:
        sheet = load_workbook(io.BytesIO(response.content)).active
        cells = [row[0] for row in sheet.iter_rows(values_only=True)]
        expected = [cell for _, cell in CELLS]
    assert cells == ["name\\x01", *expected]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("name, shown", [("inventory:devices", "AR\\x1b[2J\\x9b"), ("inventory:links", "Gi0/0/1\\x01"),
                                         ("bandwidth:index", "Gi0/0/1\\x01")])
def test_one_control_character_from_a_device_does_not_break_an_export(manager_client, name, shown, kind):
    link = nanjiang_link()
    Interface.objects.filter(pk=link.b_interface_id).update(name="Gi0/0/1\x01")
    Device.objects.filter(pk=link.b_interface.device_id).update(model="AR\x1b[2J\x9b")
    response = manager_client.get(reverse(name), {"export": kind})
    assert response.status_code == 200
    if kind == "csv":
        text = response.content.decode("utf-8-sig")
    else:
        sheet = load_workbook(io.BytesIO(response.content)).active
        text = "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row)
    assert "\x01" not in text and "\x1b" not in text and "\x9b" not in text
    assert shown in text


def test_terminal_text_keeps_lines_and_escapes_controls():
    text = "南江 ok\n\tnext\x1b[2J\r\x9b\ud800"
    assert escape_controls(text, keep="\n\t") == "南江 ok\n\tnext\\x1b[2J\\x0d\\x9b\\ud800"


HOSTILE_PROBE = {
    "system": {"sysDescr": "VRP\x1b]0;owned\x07", "sysObjectID": "1.3.6.1.4.1.2011", "sysName": "r1\x1b[2J\x9b",
               "sysUpTime": 1, "platform": "huawei_vrp", "vendor": "Huawei", "model": "AR\x7f", "os_version": "V2"},
    "interfaces": [{"ifIndex": 1, "ifName": "Gi0/0/1\x1b[31m\ud800", "ifDescr": "", "ifAlias": "\x1b[0m",
                    "ifType": 6, "speed_bps": 1000, "admin_status": "up", "oper_status": "up", "mtu": 1500,
                    "mac": "", "in_octets": 0, "out_octets": 0, "in_errors": 0, "out_errors": 0, "in_discards": 0,
                    "out_discards": 0}],
}
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\x7f", "\ud800")


@pytest.fixture
def hostile_device(monkeypatch):
    import collectors.snmp.probe

    monkeypatch.setattr(collectors.snmp.probe, "probe", lambda *args, **kwargs: HOSTILE_PROBE)


def test_snmpprobe_passes_no_control_character_from_a_device_to_the_terminal(hostile_device):
    out = io.StringIO()
    call_command("snmpprobe", "127.0.0.1", stdout=out)
    text = out.getvalue()
    assert not [c for c in RAW_CONTROLS if c in text], text
    assert "r1\\x1b[2J\\x9b" in text and "Gi0/0/1\\x1b[31m\\ud800" in text


def test_snmpprobe_json_escapes_every_control_character_and_round_trips(hostile_device):
    out = io.StringIO()
    call_command("snmpprobe", "127.0.0.1", "--json", stdout=out)
    text = out.getvalue()
    assert not [c for c in RAW_CONTROLS if c in text], text
    assert json.loads(text) == HOSTILE_PROBE
