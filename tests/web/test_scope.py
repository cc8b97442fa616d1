"""A user scoped to a county sees only that county's subtree, in every console view.

`SCOPE_CASES` must name every console URL; a new view without a case fails
`test_every_console_view_has_a_scope_case`, so no view can skip the scope.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from inventory.models import Device, Site

pytestmark = pytest.mark.django_db

NOT_CONSOLE = {"login", "logout", "set_language", "healthz"}  # no inventory data in them


def console_url_names(patterns=None, namespace=""):
    names = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= console_url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name and pattern.name not in NOT_CONSOLE:
            names.add(namespace + pattern.name)
    return names


# In scope for the Nanjiang engineer (nanjiang), out of scope (zhongxin): what each page must and must not show.
LIST_MARKERS = {
    "overview": ("南江县", "中心区"),
    "coverage": ("南江县", "中心区"),
    "inventory:devices": ("nanjiang-agg-1", "zhongxin-agg-1"),
    "inventory:sites": ("南江县政务外网汇聚机房", "中心区政务外网汇聚机房"),
    "inventory:agencies": ("南江县政务服务和数据管理局", "中心区政务服务和数据管理局"),
    "inventory:prefixes": ("10.19.0.0/16", "10.16.0.0/16"),
    "inventory:links": ("nanjiang-t01-ar", "zhongxin-t01-ar"),
}
DETAIL_OBJECTS = {
    "inventory:device": lambda slug: Device.objects.get(name=f"{slug}-agg-1").pk,
    "inventory:site": lambda slug: Site.objects.get(slug=f"{slug}-hub").pk,
}
SCOPE_CASES = set(LIST_MARKERS) | set(DETAIL_OBJECTS)


def test_every_console_view_has_a_scope_case():
    assert console_url_names() == SCOPE_CASES


@pytest.fixture
def county_client(client, demo_inventory, make_user):
    client.force_login(make_user("engineer-nj", "engineer", region="nanjiang"))
    return client


@pytest.mark.parametrize("name", sorted(LIST_MARKERS))
def test_a_county_user_sees_only_their_county_in_lists_and_exports(county_client, name):
    inside, outside = LIST_MARKERS[name]
    page = county_client.get(reverse(name)).content.decode()
    assert outside not in page
    if name.startswith("inventory:"):
        for kind in ("csv", "xlsx"):
            response = county_client.get(reverse(name), {"export": kind})
            assert response.status_code == 200
        export = county_client.get(reverse(name), {"export": "csv"}).content.decode("utf-8-sig")
        assert inside in export and outside not in export
        searched = county_client.get(reverse(name), {"q": outside.split("/")[0]})
        assert searched.context["rows"] == []
    else:
        assert inside in page


@pytest.mark.parametrize("name", sorted(DETAIL_OBJECTS))
def test_a_county_user_gets_not_found_outside_their_county(county_client, name):
    assert county_client.get(reverse(name, args=[DETAIL_OBJECTS[name]("nanjiang")])).status_code == 200
    assert county_client.get(reverse(name, args=[DETAIL_OBJECTS[name]("zhongxin")])).status_code == 404


def test_a_county_user_cannot_drill_into_another_county(county_client):
    assert county_client.get(reverse("coverage"), {"region": "zhongxin"}).status_code == 404
    assert county_client.get(reverse("coverage"), {"region": "nanjiang-t01"}).status_code == 200


def test_a_city_manager_sees_every_county(client, demo_inventory, make_user):
    client.force_login(make_user("boss", "manager"))
    page = client.get(reverse("overview")).content.decode()
    assert "南江县" in page and "中心区" in page


def test_an_account_without_role_sees_nothing(client, demo_inventory, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x" * 12))
    assert client.get(reverse("inventory:devices")).status_code == 403


def test_only_administrators_reach_the_django_admin(county_client):
    assert county_client.get("/admin/").status_code == 302
