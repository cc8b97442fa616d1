"""Per-interface graphs (traffic, errors, discards), links from inventory rows to their charts, speeds formatted,
and the charts' default range, legend layout, labelled lines and translated words."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from collectors.models import InterfaceSample
from inventory.models import Interface, Link

pytestmark = pytest.mark.django_db
STATIC = Path(__file__).resolve().parents[2] / "web" / "static" / "onenet"


def router_port(county="nanjiang") -> Interface:
    return Interface.objects.filter(device__name=f"{county}-agg-1").order_by("if_index", "name").first()


def add_samples(interface, ages, **values):
    now = timezone.now()
    InterfaceSample.objects.bulk_create([InterfaceSample(
        interface=interface, time=now - age, in_bps=values.get("in_bps", 5e6), out_bps=values.get("out_bps", 2e6),
        in_errors_per_s=values.get("in_errors", 0.5), out_errors_per_s=values.get("out_errors", 0.25),
        in_discards_per_s=values.get("in_discards", 1.5), out_discards_per_s=values.get("out_discards", 0.0))
        for age in ages])


@pytest.fixture
def engineer(client, demo_inventory, make_user):
    client.force_login(make_user("eng", "engineer", region="nanjiang"))
    return client


def test_interface_series_has_traffic_errors_and_discards(engineer):
    port = router_port()
    add_samples(port, [timedelta(minutes=m) for m in (5, 10, 15)], in_errors=0.5, in_discards=1.5)
    data = engineer.get(reverse("bandwidth:interface_series", args=[port.pk]), {"range": "1h"}).json()
    assert data["range"] == "1h" and data["source"] == "samples" and len(data["points"]) == 3
    assert data["points"][0][1:] == [5e6, 2e6, 0.5, 0.25, 1.5, 0.0]  # in, out, errors in/out, discards in/out
    assert data["p95_in_bps"] == 5e6 and data["speed_bps"] == (port.speed_bps or None)
    assert data["utc_offsets"] and data["time_zone"]


def test_a_month_of_an_interface_is_drawn_from_hourly_maxima(engineer):
    port = router_port()
    add_samples(port, [timedelta(days=3, minutes=m) for m in (0, 5, 10)], in_errors=2.0)
    add_samples(port, [timedelta(days=3, minutes=20)], in_errors=7.0, in_bps=9e6)
    data = engineer.get(reverse("bandwidth:interface_series", args=[port.pk]), {"range": "30d"}).json()
    assert data["source"] == "hourly maxima" and len(data["points"]) in (1, 2)  # the samples' hour(s)
    assert max(p[1] for p in data["points"]) == 9e6 and max(p[3] for p in data["points"]) == 7.0


def test_interface_graphs_refuse_an_interface_outside_the_scope(engineer):
    other = router_port("zhongxin")
    assert engineer.get(reverse("bandwidth:interface", args=[other.pk])).status_code == 404
    assert engineer.get(reverse("bandwidth:interface_series", args=[other.pk])).status_code == 404
    assert engineer.get(reverse("bandwidth:interface", args=[router_port().pk])).status_code == 200


def test_interface_rows_of_the_device_page_lead_to_their_graphs(engineer):
    port = router_port()
    page = engineer.get(reverse("inventory:device", args=[port.device.pk])).content.decode()
    assert reverse("bandwidth:interface", args=[port.pk]) in page


def test_link_rows_of_the_inventory_lead_to_their_bandwidth_chart(engineer):
    link = Link.objects.filter(b_interface__device__name="nanjiang-t01-ar").first()
    page = engineer.get(reverse("inventory:links")).content.decode()
    assert reverse("bandwidth:link", args=[link.pk]) in page


def test_speeds_and_capacities_are_formatted_in_pages_and_raw_in_exports(engineer):
    from web.templatetags.units import speed

    assert [speed(v) for v in (10**9, 10**8, 10**10, 2_048_000, 155_520_000, 0, None)] == [
        "1 Gbit/s", "100 Mbit/s", "10 Gbit/s", "2.048 Mbit/s", "155.5 Mbit/s", "–", "–"]
    link = Link.objects.filter(b_interface__device__name="nanjiang-t01-ar").first()
    Link.objects.filter(pk=link.pk).update(capacity_bps=10**9)
    Interface.objects.filter(pk=router_port().pk).update(speed_bps=10**10)
    page = engineer.get(reverse("inventory:links")).content.decode()
    assert "1 Gbit/s" in page and "1000000000" not in page
    export = engineer.get(reverse("inventory:links"), {"export": "csv"}).content.decode("utf-8-sig")
    assert ",1000000000," in export and "Gbit/s" not in export
    device_page = engineer.get(reverse("inventory:device", args=[router_port().device.pk])).content.decode()
    assert "10 Gbit/s" in device_page and "10000000000" not in device_page


def link_of(county="nanjiang"):
    return Link.objects.get(b_interface__device__name=f"{county}-t01-ar")


@pytest.mark.parametrize(("age", "expected"), [(timedelta(minutes=40), "1h"), (timedelta(hours=3), "6h"),
                                               (timedelta(days=4), "24h")])
def test_the_default_range_covers_the_first_sample(engineer, age, expected):
    link = link_of()
    add_samples(link.a_interface, [age, timedelta(minutes=1)])
    add_samples(link.b_interface, [timedelta(minutes=2)])
    response = engineer.get(reverse("bandwidth:link", args=[link.pk]))
    assert response.context["range"] == expected and f'data-range="{expected}"' in response.content.decode()
    response = engineer.get(reverse("bandwidth:interface", args=[link.a_interface.pk]))
    assert response.context["range"] == expected


def test_a_chart_without_samples_opens_on_a_day_and_a_range_asked_for_is_kept(engineer):
    link = link_of()
    assert engineer.get(reverse("bandwidth:link", args=[link.pk])).context["range"] == "24h"
    add_samples(link.a_interface, [timedelta(minutes=10)])
    assert engineer.get(reverse("bandwidth:link", args=[link.pk]), {"range": "7d"}).context["range"] == "7d"
    assert engineer.get(reverse("bandwidth:link", args=[link.pk]), {"range": "bogus"}).context["range"] == "1h"


def test_the_charts_words_are_translated(engineer):
    link = link_of()
    page = engineer.get(reverse("bandwidth:link", args=[link.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for attribute in ('data-unit="Mbit/s"', 'data-capacity="带宽"', 'data-none="', 'data-source-samples="'):
        assert attribute in page
    assert ">1 小时<" in page and ">30 天<" in page  # the range buttons
    assert 'data-none="No samples' not in page and 'data-note="{points} 个数据点' in page
    interface_page = engineer.get(reverse("bandwidth:interface", args=[link.a_interface.pk]),
                                  HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-in-errors="Errors in"' not in interface_page and "Errors and discards" not in interface_page


def test_the_chart_keeps_its_legend_off_the_zoom_slider_and_labels_its_lines():
    # The layout and the line labels are the charts' shared code (chart-common.js), which both pages load first.
    common = (STATIC / "chart-common.js").read_text()
    assert 'type: "slider", bottom: 8' in common and "grid: {top: 48, bottom: 72" in common
    assert 'label: {show: true, position: "insideEndTop", formatter: name + ": " + format(value)}' in common
    for script in ("link-chart.js", "interface-chart.js"):
        text = (STATIC / script).read_text()
        assert "legend: {top: 0" in text or "legend = {top: 0" in text, script
        assert "C.layout(data, wall)" in text and "C.line(" in text, script


@pytest.mark.django_db(transaction=True)
def test_an_interface_chart_draws_traffic_errors_and_labelled_lines_in_a_browser(demo_inventory, make_user,
                                                                                  live_server):
    """Real chromium: both charts draw the points the page loaded, with the legend above the plot and the zoom
    slider below it, the speed and 95th-percentile lines labelled, and every word in Chinese."""
    import re

    from tests.browser import Console, browser, log_in, screenshot

    make_user("eng-browser", "engineer", region="nanjiang")
    port = router_port()
    Interface.objects.filter(pk=port.pk).update(speed_bps=10**8)
    add_samples(port, [timedelta(minutes=5 * step) for step in range(1, 10)])
    console = Console()
    with browser(console) as page:
        log_in(page, live_server.url, "eng-browser")
        page.goto(live_server.url + reverse("bandwidth:interface", args=[port.pk]))
        page.wait_for_function("""() => ["chart", "chart-errors"].every(id => {
            const chart = window.echarts && echarts.getInstanceByDom(document.getElementById(id));
            const option = chart && chart.getOption();
            return option && option.series && option.series.length && option.series[0].data.length > 0;
        })""")
        drawn = page.evaluate("""() => ["chart", "chart-errors"].map(id => {
            const option = echarts.getInstanceByDom(document.getElementById(id)).getOption();
            return {series: option.series.map(s => ({name: s.name, points: s.data.length})),
                    legendTop: option.legend[0].top, sliderBottom: option.dataZoom[1].bottom,
                    gridTop: option.grid[0].top, gridBottom: option.grid[0].bottom,
                    lines: (option.series[0].markLine || {data: []}).data.map(d => d.label.formatter)};
        })""")
        traffic, errors = drawn
        assert [s["points"] for s in traffic["series"]] == [9, 9]
        assert [s["points"] for s in errors["series"]] == [9, 9, 9, 9]
        for chart in drawn:
            assert chart["legendTop"] == 0 and chart["sliderBottom"] == 8
            assert chart["gridTop"] >= 40 and chart["gridBottom"] >= 60  # room for the legend and the slider
            assert all(re.search(r"[\u4e00-\u9fff]", s["name"]) for s in chart["series"]), chart
        assert len(traffic["lines"]) == 3 and traffic["lines"][0].startswith("速率: 100.0 Mbit/s")
        assert all("95 百分位" in line for line in traffic["lines"][1:])
        assert "个数据点" in page.inner_text("#chart-note")
        screenshot(page, "interface-chart-engineer")
    console.assert_clean("/bandwidth/")  # the chart's page (the login page's favicon is not this test's)
