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
