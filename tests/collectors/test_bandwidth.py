"""Bandwidth reports: utilisation now, 95th percentiles, roll-ups, series, expansion, exports, /metrics."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from collectors.models import DeviceState, InterfaceRollup, InterfaceSample, SnmpState
from collectors.services import bandwidth
from collectors.services.rollups import percentile, period_start, prune_samples, rollup, rollup_recent
from inventory.models import Link

pytestmark = pytest.mark.django_db


def egress_link():
    return Link.objects.get(tier="internet", capacity_bps=2_000_000_000)


def five_minute_samples(link, values_down, end=None, up=1_000_000):
    """One sample every 5 minutes ending at `end` on the link's downstream end (the egress firewall's port for the
    egress link), its in (down, from the internet) taking `values_down` in order."""
    end = end or timezone.now()
    count = len(values_down)
    InterfaceSample.objects.bulk_create([
        InterfaceSample(interface=link.downstream_interface, time=end - timedelta(minutes=5 * (count - 1 - i)),
                        in_bps=v, out_bps=up, in_utilisation=v / link.capacity_bps,
                        out_utilisation=up / link.capacity_bps)
        for i, v in enumerate(values_down)])


@pytest.mark.parametrize("values, expected", [([], None), ([5], 5), (list(range(1, 101)), 95),
                                              (list(range(1, 21)), 19), ([3, 1, 2], 3)])
def test_the_95th_percentile_is_the_nearest_rank(values, expected):
    assert percentile(values) == expected


def test_utilisation_now_takes_the_busier_direction_of_the_latest_sample(demo_inventory):
    link = egress_link()
    five_minute_samples(link, [100e6, 1.5e9])
    row = bandwidth.links_now(Link.objects.filter(pk=link.pk))[0]
    assert row.down_bps == 1.5e9 and row.utilisation == pytest.approx(0.75)


def test_a_link_with_no_recent_sample_is_not_measured(demo_inventory):
    link = egress_link()
    five_minute_samples(link, [1.5e9], end=timezone.now() - timedelta(hours=2))
    assert bandwidth.links_now(Link.objects.filter(pk=link.pk))[0].utilisation is None


def test_the_month_s_95th_percentile_ignores_the_top_five_percent(demo_inventory):
    link = egress_link()
    # 100 samples this month: 95 at 1 Gbit/s and 5 bursts at 2 Gbit/s.
    now = timezone.now()
    start = bandwidth.month_start(now)
    end = min(now, start + timedelta(minutes=5 * 99))
    five_minute_samples(link, [1e9] * 95 + [2e9] * 5, end=end)
    p95 = bandwidth.p95_this_month(link)
    assert p95["down_bps"] == 1e9 and p95["utilisation"] == pytest.approx(0.5)


def test_hourly_roll_ups_summarise_and_rerunning_replaces_them(demo_inventory):
    link = egress_link()
    hour = period_start(timezone.now() - timedelta(hours=2), "hour")
    five_minute_samples(link, [float(v) * 1e6 for v in range(1, 13)], end=hour + timedelta(minutes=55))
    assert rollup("hour", hour) == 1
    assert rollup("hour", hour) == 1
    row = InterfaceRollup.objects.get(interface=link.downstream_interface, period="hour", start=hour)
    assert (row.samples, row.in_max_bps, row.in_p95_bps) == (12, 12e6, 12e6)
    assert row.in_avg_bps == pytest.approx(6.5e6)


def test_the_scheduled_roll_up_covers_the_current_hour_and_day(demo_inventory):
    link = egress_link()
    five_minute_samples(link, [1e6, 3e6])
    rollup_recent()
    periods = set(InterfaceRollup.objects.filter(interface=link.downstream_interface).values_list("period",
                                                                                                flat=True))
    assert periods == {"hour", "day"}


def test_old_raw_samples_are_pruned_after_the_retention(demo_inventory, settings):
    settings.ONENET_SAMPLE_RETENTION_DAYS = 30
    link = egress_link()
    five_minute_samples(link, [1e6], end=timezone.now() - timedelta(days=31))
    five_minute_samples(link, [1e6])
    assert prune_samples()["samples_pruned"] == 1
    assert InterfaceSample.objects.count() == 1


def test_a_month_long_series_comes_from_hourly_maxima(demo_inventory):
    link = egress_link()
    now = timezone.now()
    InterfaceRollup.objects.bulk_create([
        InterfaceRollup(interface=link.a_interface, period="hour", start=now - timedelta(hours=h), samples=12,
                        out_max_bps=1e9, in_max_bps=2e8) for h in range(1, 720)])
    series = bandwidth.series(link, "30d")
    assert series["source"] == "hourly maxima" and len(series["points"]) == 719
    assert series["points"][0][0] < series["points"][-1][0]


def test_links_over_the_threshold_on_enough_days_need_expansion(demo_inventory):
    hot, warm = Link.objects.filter(tier="agency")[:2]
    today = period_start(timezone.now(), "day")
    for link, peaks in ((hot, [0.95, 0.9, 0.85, 0.5]), (warm, [0.95, 0.5, 0.5, 0.5])):
        InterfaceRollup.objects.bulk_create([
            InterfaceRollup(interface=link.a_interface, period="day", start=today - timedelta(days=d), samples=288,
                            out_max_bps=p * link.capacity_bps, in_max_bps=0) for d, p in enumerate(peaks)])
    rows = bandwidth.expansion_candidates(Link.objects.all(), threshold=0.8, days_over=3, window_days=7)
    assert [r["link"].pk for r in rows] == [hot.pk]
    assert rows[0]["days_over"] == 3 and rows[0]["peak"] == pytest.approx(0.95)


def test_the_bandwidth_page_exports_every_link_as_csv_and_xlsx(client, demo_inventory, make_user):
    five_minute_samples(egress_link(), [1.5e9])
    client.force_login(make_user("amy", "manager"))
    csv = client.get(reverse("bandwidth:index"), {"export": "csv"}).content.decode("utf-8-sig")
    assert len(csv.strip().splitlines()) == Link.objects.count() + 1
    assert "city-egress-fw-1" in csv.splitlines()[1]  # the busiest link first
    xlsx = client.get(reverse("bandwidth:index"), {"export": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_metrics_expose_rates_state_and_poll_figures_with_prometheus_names(client, demo_inventory):
    link = egress_link()
    five_minute_samples(link, [1.5e9])
    DeviceState.objects.create(device=link.a_interface.device, snmp_state=SnmpState.UP)
    text = client.get(reverse("metrics")).content.decode()
    assert (f'onenet_interface_in_bits_per_second{{county="city",device="city-egress-fw-1",'
            f'interface="{link.downstream_interface.name}"}} 1.5e+09') in text
    assert 'onenet_device_up{county="city",device="city-egress-fw-1",platform="huawei_vrp"} 1.0' in text
    assert "onenet_poll_duration_seconds" in text


def test_metrics_need_the_token_when_one_is_set(client, settings):
    settings.ONENET_METRICS_TOKEN = "s3cret-token"
    assert client.get(reverse("metrics")).status_code == 401
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
