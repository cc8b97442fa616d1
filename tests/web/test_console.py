"""The console shell: login, navigation, language, and hostile strings kept harmless."""

import pytest
from django.urls import reverse

from inventory.models import Device, Interface

pytestmark = pytest.mark.django_db


def test_pages_need_a_login(client):
    response = client.get(reverse("inventory:devices"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_user_logs_in_sees_the_overview_and_logs_out(client, demo_inventory, make_user):
    make_user("amy", "manager")
    response = client.post(reverse("login"), {"username": "amy", "password": "correct-horse-battery"}, follow=True)
    assert response.status_code == 200 and response.request["PATH_INFO"] == reverse("overview")
    client.post(reverse("logout"))
    assert client.get(reverse("overview")).status_code == 302


def test_a_wrong_password_is_refused_with_a_clear_message(client, make_user):
    make_user("amy", "manager")
    page = client.post(reverse("login"), {"username": "amy", "password": "nope"}).content.decode()
    assert "用户名或密码不正确" in page


def test_the_console_speaks_chinese_by_default_and_english_on_request(client, demo_inventory, make_user):
    client.force_login(make_user("amy", "manager"))
    # Even an English browser gets the configured language until the user switches.
    page = client.get(reverse("overview"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "覆盖率" in page and "设备" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("overview")).content.decode()
    assert "Site coverage" in page


def test_navigation_shows_only_sections_that_exist(client, demo_inventory, make_user):
    client.force_login(make_user("amy", "manager"))
    sections = [s["url"] for s in client.get(reverse("overview")).context["nav_sections"]]
    assert reverse("coverage") in sections and reverse("inventory:devices") in sections
    for url in sections:
        assert client.get(url).status_code == 200


HOSTILE = '<script>alert("x")</script>'


def test_device_supplied_strings_are_escaped_in_pages(client, demo_inventory, make_user):
    device = Device.objects.get(name="nanjiang-agg-1")
    Device.objects.filter(pk=device.pk).update(model=HOSTILE)
    Interface.objects.filter(device=device).update(description=HOSTILE)
    client.force_login(make_user("amy", "manager"))
    for url in (reverse("inventory:device", args=[device.pk]), reverse("inventory:devices") + "?q=nanjiang-agg"):
        page = client.get(url).content.decode()
        assert HOSTILE not in page and "&lt;script&gt;" in page


def test_exports_neutralise_spreadsheet_formulas(client, demo_inventory, make_user):
    Device.objects.filter(name="nanjiang-agg-1").update(model='=HYPERLINK("http://evil","x")')
    client.force_login(make_user("amy", "manager"))
    export = client.get(reverse("inventory:devices"), {"q": "nanjiang-agg", "export": "csv"}).content.decode()
    assert "'=HYPERLINK" in export


def test_lists_filter_sort_and_paginate(client, demo_inventory, make_user):
    client.force_login(make_user("amy", "manager"))
    response = client.get(reverse("inventory:devices"), {"platform": "cisco_ios", "sort": "-name"})
    names = [row["cells"][0] for row in response.context["rows"]]
    assert names == sorted(names, reverse=True)
    assert set(Device.objects.filter(name__in=names).values_list("platform", flat=True)) == {"cisco_ios"}
    assert response.context["page"].paginator.count == Device.objects.filter(platform="cisco_ios").count()
    second = client.get(reverse("inventory:devices"), {"page": 2})
    assert second.context["page"].number == 2
    html = second.content.decode()
    assert 'class="pages"' in html and "page=1" in html and "page=3" in html  # links to both neighbours


def test_the_prefix_page_answers_who_owns_an_address(client, demo_inventory, make_user):
    client.force_login(make_user("amy", "manager"))
    response = client.get(reverse("inventory:prefixes"), {"lookup": "10.1.2.50"})
    assert response.context["lookup_match"].prefix == "10.1.2.0/24"
    assert client.get(reverse("inventory:prefixes"), {"lookup": "nope"}).context["lookup_error"]


def test_a_county_user_s_overview_counts_every_device_of_the_county(client, demo_inventory, make_user):
    county = Device.objects.filter(site__region__path__startswith="/city/nanjiang/")
    assert county.count() > 2
    client.force_login(make_user("nj", "engineer", region="nanjiang"))
    context = client.get(reverse("overview")).context
    assert context["device_total"] == county.count()
    assert {row["status"]: row["n"] for row in context["by_status"]} == {
        status: county.filter(status=status).count() for status in set(county.values_list("status", flat=True))}
    assert sum(row["n"] for row in context["by_platform"]) == county.count()
