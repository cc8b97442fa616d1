"""Exports and times: one time zone (the configured one) in exports, diffs and charts, real dates and numbers in
spreadsheets, and download names that survive being Chinese."""

import csv
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from collectors.models import ConfigVersion, InterfaceSample
from collectors.services import bandwidth
from inventory.models import Device, Link
from web import tables

pytestmark = pytest.mark.django_db

# 02:30 UTC is 10:30 in Shanghai (UTC+8, no daylight saving time).
WHEN = datetime(2026, 3, 2, 2, 30, 15, tzinfo=UTC)


def sheet_rows(response):
    book = load_workbook(io.BytesIO(response.content))
    return [list(row) for row in book.worksheets[0].iter_rows()]


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_xlsx_cells_hold_local_dates_and_percentages_as_numbers(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    response = tables.export_response(["time", "share", "count"], [[WHEN, tables.Percent(0.8734), 3]], "xlsx", "t")
    _header, (time_cell, share_cell, count_cell) = sheet_rows(response)
    assert time_cell.value == datetime(2026, 3, 2, 10, 30, 15) and time_cell.is_date
    assert "yyyy" in time_cell.number_format and "hh:mm" in time_cell.number_format
    assert share_cell.value == pytest.approx(0.8734) and share_cell.number_format.endswith("%")
    assert count_cell.value == 3


def test_csv_times_are_iso_in_the_configured_zone_with_its_offset(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    rows = csv_rows(tables.export_response(["time", "share"], [[WHEN, tables.Percent(0.5)]], "csv", "t"))
    assert rows[1] == ["2026-03-02T10:30:15+08:00", "0.5"]
    settings.TIME_ZONE = "Europe/Berlin"  # another configured zone: the same instant in it
    rows = csv_rows(tables.export_response(["time"], [[WHEN]], "csv", "t"))
    assert rows[1] == ["2026-03-02T03:30:15+01:00"]


def test_the_bandwidth_export_writes_its_measured_time_and_utilisation_as_a_date_and_a_percentage(
        client, demo_inventory, make_user):
    link = Link.objects.get(tier="internet", capacity_bps=2_000_000_000)
    now = timezone.now().replace(microsecond=0)
    InterfaceSample.objects.create(interface=link.a_interface, time=now, in_bps=1.5e9, out_bps=0.5e9)
    client.force_login(make_user("amy", "manager"))
    header, first, *_ = sheet_rows(client.get(reverse("bandwidth:index"), {"export": "xlsx"}))
    names = [c.value for c in header]
    cells = dict(zip(names, first, strict=True))
    measured, utilisation = cells[names[-1]], cells[names[-2]]
    assert measured.value == timezone.localtime(now).replace(tzinfo=None) and measured.is_date
    assert utilisation.value == pytest.approx(0.75) and utilisation.number_format.endswith("%")
    row = dict(zip(names, csv_rows(client.get(reverse("bandwidth:index"), {"export": "csv"}))[1], strict=True))
    assert row[names[-1]] == timezone.localtime(now).isoformat()


def test_a_chinese_file_name_reaches_the_browser_with_an_ascii_fallback(client, demo_inventory, make_user):
    client.force_login(make_user("amy", "manager"))
    response = client.get(reverse("inventory:devices"), {"export": "csv"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="onenet-') and disposition.isascii()
    assert f"filename*=UTF-8''{quote('onenet-设备.csv')}" in disposition


@pytest.mark.parametrize("name, fallback", [("onenet-设备.csv", "onenet-__.csv"), ('a"b\\c\r\n.cfg', "a_b_c__.cfg"),
                                            ("plain-name.xlsx", "plain-name.xlsx")])
def test_the_attachment_header_is_rfc_6266_and_injection_free(name, fallback):
    from django.http import HttpResponse

    response = tables.attachment(HttpResponse(), name)
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}")


def test_every_download_uses_the_rfc_6266_header(client, demo_inventory, make_user):
    device = Device.objects.get(name="nanjiang-agg-1")
    version = ConfigVersion.objects.create(device=device, fetched_at=WHEN, sha256="a", text="sysname x\n")
    client.force_login(make_user("root", "admin", superuser=True))
    for url in (reverse("config_version", args=[version.pk]) + "?download=config",
                reverse("compliance:mlps_export"), reverse("bandwidth:index") + "?export=xlsx"):
        assert "filename*=UTF-8''" in client.get(url)["Content-Disposition"], url
    assert "20260302-103015" in client.get(reverse("config_version", args=[version.pk]) + "?download=config")[
        "Content-Disposition"]  # the fetch time in the configured zone


def test_diffs_label_their_versions_in_the_configured_zone(client, demo_inventory, make_user, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    device = Device.objects.get(name="nanjiang-agg-1")
    ConfigVersion.objects.create(device=device, fetched_at=WHEN - timedelta(hours=1), sha256="a", text="sysname a\n")
    newer = ConfigVersion.objects.create(device=device, fetched_at=WHEN, sha256="b", text="sysname b\n",
                                         diff="--- x 2026-03-02 01:30:15\n+++ x 2026-03-02 02:30:15\n")
    for role, superuser in (("manager", False), ("admin", True)):
        client.force_login(make_user(f"u-{role}", role, superuser=superuser))
        diff = client.get(reverse("config_version", args=[newer.pk])).context["diff"]
        assert "+++ nanjiang-agg-1 2026-03-02 10:30:15 +0800" in diff, role
        assert "--- nanjiang-agg-1 2026-03-02 09:30:15 +0800" in diff, role


def test_the_chart_is_given_the_configured_zone_and_its_offsets(demo_inventory, settings):
    link = Link.objects.get(tier="internet", capacity_bps=2_000_000_000)
    settings.TIME_ZONE = "Asia/Shanghai"
    series = bandwidth.series(link, "24h", end=WHEN)
    assert series["time_zone"] == "Asia/Shanghai"
    assert series["utc_offsets"] == [[series["start"], 8 * 3600 * 1000]]
    # A zone with daylight saving time: the offset changes inside the week (Berlin, 29 March 2026 at 01:00 UTC).
    settings.TIME_ZONE = "Europe/Berlin"
    series = bandwidth.series(link, "7d", end=datetime(2026, 4, 1, tzinfo=UTC))
    change = int(datetime(2026, 3, 29, 1, 0, tzinfo=UTC).timestamp() * 1000)
    assert series["utc_offsets"] == [[series["start"], 3600 * 1000], [change, 7200 * 1000]]


def test_pages_name_the_one_zone_their_times_are_in(client, demo_inventory, make_user, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    client.force_login(make_user("amy", "manager"))
    assert "Asia/Shanghai" in client.get(reverse("overview")).content.decode()
