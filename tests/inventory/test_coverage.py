"""Coverage: expected vs connected sites and devices per region, rolled up, with the gaps."""

import json

import pytest
from django.core.management import call_command

from inventory.models import Device, Site
from inventory.services import coverage_report

pytestmark = pytest.mark.django_db


def test_coverage_rolls_up_sites_and_devices_from_villages_to_the_city(demo_inventory):
    report = coverage_report()
    topology = demo_inventory
    expected_sites = sum(1 for s in topology.sites if s.expected)
    sites_with_active = {d.site for d in topology.devices if d.status == "active"}
    connected = sum(1 for s in topology.sites if s.expected and s.slug in sites_with_active)
    assert report["totals"]["sites_expected"] == expected_sites
    assert report["totals"]["sites_connected"] == connected
    assert report["totals"]["devices_connected"] == sum(1 for d in topology.devices if d.status == "active")
    assert len(report["counties"]) == 8
    # Counties add up to the city minus the city's own sites.
    city_own = sum(1 for s in topology.sites if s.expected and s.region == "city")
    assert sum(c["sites_expected"] for c in report["counties"]) == expected_sites - city_own
    assert len(report["gaps"]) == expected_sites - connected > 0


def test_a_site_whose_only_device_is_planned_is_a_gap_until_the_device_is_active(demo_inventory):
    site = Site.objects.filter(expected=True, devices__isnull=False).first()
    Device.objects.filter(site=site).update(status="planned")
    gaps = {g["site"]: g for g in coverage_report()["gaps"]}
    assert gaps[site.slug]["reason"] == "planned device not yet active"
    Device.objects.filter(site=site).update(status="active")
    assert site.slug not in {g["site"] for g in coverage_report()["gaps"]}


def test_a_county_report_covers_only_that_subtree(demo_inventory):
    county = coverage_report("/city/nanjiang/")
    assert county["root"] == "nanjiang"
    assert all(r["path"].startswith("/city/nanjiang/") for r in county["regions"])
    assert all(g["region_names"][0] == "南江县" for g in county["gaps"])


def test_the_coverage_command_prints_the_report_as_json(demo_inventory, capsys):
    call_command("coverage", "--json", "--region", "nanjiang")
    report = json.loads(capsys.readouterr().out)
    assert report["root"] == "nanjiang" and "gaps" in report and "totals" in report


def answering_everywhere_but(silent_site, hours_silent=5):
    """Every active device answered SNMP a minute ago, but those of `silent_site`, silent for hours."""
    from datetime import timedelta

    from django.utils import timezone

    from collectors.models import DeviceState, SnmpState

    now = timezone.now()
    DeviceState.objects.bulk_create([
        DeviceState(device=device, snmp_state=SnmpState.UP,
                    last_poll_ok_at=now - (timedelta(hours=hours_silent) if device.site_id == silent_site.pk
                                           else timedelta(minutes=1)), last_poll_at=now)
        for device in Device.objects.filter(status="active")])


def one_device_site(county="nanjiang"):
    from django.db.models import Count

    return (Site.objects.filter(expected=True, region__path__startswith=f"/city/{county}/")
            .annotate(n=Count("devices")).filter(n=1, devices__status="active").order_by("slug").first())


def test_a_site_whose_only_device_stopped_answering_is_installed_but_not_answering_now(demo_inventory):
    site = one_device_site()
    answering_everywhere_but(site)
    report = coverage_report()
    totals = report["totals"]
    assert totals["sites_answering"] == totals["sites_connected"] - 1  # installed, but silent for hours
    assert totals["devices_answering"] == totals["devices_connected"] - 1
    nanjiang = next(c for c in report["counties"] if c["slug"] == "nanjiang")
    assert nanjiang["sites_answering"] == nanjiang["sites_connected"] - 1
    assert nanjiang["site_answering_pct"] < nanjiang["site_coverage_pct"]
    silent = {s["site"]: s for s in report["not_answering"]}
    assert list(silent) == [site.slug] and silent[site.slug]["last_answer"] is not None
    assert site.slug not in {g["site"] for g in report["gaps"]}  # installed: not a gap


def test_a_device_never_polled_is_not_answering(demo_inventory):
    totals = coverage_report()["totals"]
    assert totals["devices_connected"] > 0 and totals["devices_answering"] == totals["sites_answering"] == 0


def test_the_coverage_command_keeps_its_keys_and_adds_answering_now(demo_inventory, capsys):
    answering_everywhere_but(one_device_site())
    call_command("coverage", "--json")
    report = json.loads(capsys.readouterr().out)
    for key in ("sites_expected", "sites_connected", "devices_expected", "devices_connected", "site_coverage_pct",
                "device_coverage_pct", "sites_answering", "devices_answering", "site_answering_pct",
                "device_answering_pct"):
        assert key in report["totals"] and key in report["counties"][0], key
    assert len(report["not_answering"]) == 1 and report["gaps"]


def test_the_overview_and_the_device_list_tell_installed_from_answering(client, demo_inventory, make_user):
    from django.urls import reverse

    site = one_device_site()
    answering_everywhere_but(site)
    silent = Device.objects.get(site=site)
    client.force_login(make_user("amy", "manager"))
    overview = client.get(reverse("overview")).context["report"]["totals"]
    assert overview["sites_answering"] == overview["sites_connected"] - 1
    listed = client.get(reverse("inventory:devices"), {"answering": "0", "status": "active"}).context
    assert [row["cells"][0] for row in listed["rows"]] == [silent.name]
    answering = client.get(reverse("inventory:devices"), {"answering": "1"}).context["page"].paginator.count
    assert answering == Device.objects.filter(status="active").count() - 1
