"""Directions are the city's (DESIGN "The console"): "down" is into the city (from the internet, from the province)
and towards the village, "up" the reverse, on every tier, whichever end of a link the inventory writes first."""

import time

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override, pgettext

from collectors.models import InterfaceSample, SnmpState
from collectors.services import bandwidth, polling
from inventory.models import Link
from lab.profile import link_params, rate_bps

pytestmark = pytest.mark.django_db

# Per tier: the device (by name) at the end "down" traffic flows to, in the demo lab.
DOWNSTREAM = {
    ("city-egress-fw-1", "isp-telecom-pe"): "city-egress-fw-1",  # from the internet into the city
    ("prov-pe-1", "city-core-1"): "city-core-1",  # from the province into the city
    ("city-core-1", "city-egress-fw-1"): "city-core-1",  # from the internet, through the egress, into the city
    ("city-core-2", "nanjiang-agg-1"): "nanjiang-agg-1",  # towards the county
    ("nanjiang-agg-1", "nanjiang-t01-ar"): "nanjiang-t01-ar",  # towards the township
}


def lab_link(one, other):
    return Link.objects.select_related("a_interface__device", "b_interface__device").get(
        a_interface__device__name__in=(one, other), b_interface__device__name__in=(one, other))


@pytest.mark.parametrize("ends, downstream", DOWNSTREAM.items(), ids=lambda v: "-".join(v) if len(v) == 2 else v)
def test_down_is_what_the_city_side_end_receives_on_every_tier(demo_inventory, ends, downstream):
    link = lab_link(*ends)
    end = link.a_interface if link.a_interface.device.name == downstream else link.b_interface
    # Only the downstream end is measured: it receives "down" (its in) and sends "up" (its out).
    InterfaceSample.objects.create(interface=end, time=timezone.now(), in_bps=300e6, out_bps=100e6)
    row = bandwidth.links_now(Link.objects.filter(pk=link.pk))[0]
    assert (row.down_bps, row.up_bps) == (300e6, 100e6)


def test_the_other_end_measures_the_same_directions_when_the_city_side_end_is_not_sampled(demo_inventory):
    link = lab_link("city-egress-fw-1", "isp-telecom-pe")
    isp_end = link.a_interface if link.a_interface.device.name == "isp-telecom-pe" else link.b_interface
    InterfaceSample.objects.create(interface=isp_end, time=timezone.now(), in_bps=100e6, out_bps=300e6)
    row = bandwidth.links_now(Link.objects.filter(pk=link.pk))[0]
    assert (row.down_bps, row.up_bps) == (300e6, 100e6)


@pytest.mark.lab
def test_the_egress_row_shows_the_firewall_s_own_in_as_down_and_out_as_up(lab_inventory, settings, client,
                                                                           make_user):
    settings.ONENET_SNMP_TIMEOUT, settings.ONENET_SNMP_RETRIES, settings.ONENET_SNMP_DEADLINE = 1.5, 1, 20
    firewall = "city-egress-fw-1"
    for _ in range(2):  # the first reading is the counters' base, the second makes the rates
        assert polling.poll_cycle(device_name=firewall)["devices_polled"] == 1
        time.sleep(2)
    link = lab_link(firewall, "isp-telecom-pe")
    port = link.a_interface if link.a_interface.device.name == firewall else link.b_interface
    own = InterfaceSample.objects.get(interface=port)  # the firewall's own counters on its ISP-facing port
    client.force_login(make_user("amy", "manager"))
    egress = {row.link.pk: row for row, _p95 in client.get(reverse("bandwidth:index")).context["egress"]}
    row = egress[link.pk]
    assert (row.down_bps, row.up_bps) == (own.in_bps, own.out_bps)
    # And that is the lab's traffic from the ISP into the city, the heavy direction of the link's profile.
    lab = next(k for k in lab_inventory.links if {k.a_device, k.b_device} == {firewall, "isp-telecom-pe"})
    from_isp = "ba" if lab.b_device == "isp-telecom-pe" else "ab"
    assert row.down_bps == pytest.approx(rate_bps(lab, from_isp, own.time.timestamp()), rel=0.05)
    heavy, light, _shift = link_params(lab)
    assert row.down_bps / row.up_bps == pytest.approx(heavy / light, rel=0.02)


# The words this issue gives their own context, as the zh-hans catalogue is to hold them (its owner adds them).
CONTEXT_WORDS = {("direction", "Up"): "上行", ("direction", "Down"): "下行", ("SNMP state", "Up"): "正常"}


@pytest.fixture
def catalogue_with_contexts(monkeypatch):
    from django.utils.translation import trans_real

    catalog = trans_real.translation("zh-hans")._catalog._catalogs[0]
    for (context, word), text in CONTEXT_WORDS.items():
        monkeypatch.setitem(catalog, f"{context}{trans_real.CONTEXT_SEPARATOR}{word}", text)


def test_directions_are_worded_as_directions_not_as_the_snmp_state(demo_inventory, client, make_user,
                                                                    catalogue_with_contexts):
    client.force_login(make_user("amy", "manager"))
    page = client.get(reverse("bandwidth:index")).content.decode()
    headers = page.split("<h2>", 3)[2]  # the "most utilised links" table
    assert "<th>下行</th><th>上行</th>" in headers and "正常" not in page
    link = Link.objects.filter(tier="internet").first()
    chart = client.get(reverse("bandwidth:link", args=[link.pk])).content.decode()
    assert 'data-down="下行" data-up="上行"' in chart
    with override("zh-hans"):
        assert str(SnmpState.UP.label) == "正常" and pgettext("direction", "Up") == "上行"
