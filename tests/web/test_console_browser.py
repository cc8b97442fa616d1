"""The console in a real browser (Playwright driving Debian's chromium) for each role: each logs in through the
form and lands on the page that answers its first question; a link's chart draws the samples its page loaded; an
export downloads under its Chinese file name; no page logs an error or breaks the Content-Security-Policy.

The console runs in pytest-django's live server over the demo inventory with a few hours of samples on one link per
county and alerts in both counties; no lab is needed. Each key page is saved as a screenshot (tests/browser.py:
var/screenshots/ or ONENET_SCREENSHOTS), named for the page and the role.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.browser import Console, browser, log_in, screenshot, screenshot_dir
from tests.web.test_scope import busy_link

pytestmark = pytest.mark.django_db(transaction=True)

USERS = {  # username → (role, region)
    "manager": ("manager", None),
    "security": ("security", None),
    "engineer-nanjiang": ("engineer", "nanjiang"),
}
FIRST_PAGES = {"manager": "overview", "security": "threat:alerts", "engineer-nanjiang": "inventory:devices"}
SHORT_NAMES = {"manager": "manager", "security": "security", "engineer-nanjiang": "engineer"}


@pytest.fixture
def console_users(demo_inventory, make_user):
    return {name: make_user(name, role, region=region) for name, (role, region) in USERS.items()}


@pytest.fixture
def samples(demo_inventory):
    """Three hours of 5-minute samples on each county's busiest link, rising; returns the Nanjiang link."""
    from django.utils import timezone

    from collectors.models import InterfaceSample

    now = timezone.now()
    for slug in ("nanjiang", "zhongxin"):
        link = busy_link(slug)
        for step in range(36):
            share = 0.3 + step / 60
            InterfaceSample.objects.create(interface=link.a_interface, time=now - timezone.timedelta(minutes=5 * step),
                                           in_bps=link.capacity_bps * share, out_bps=link.capacity_bps * share / 4,
                                           in_utilisation=share, out_utilisation=share / 4)
    return busy_link("nanjiang")


@pytest.fixture
def alerts(demo_inventory):
    from threat.services.alerts import ingest_alerts

    ingest_alerts([{"kind": "eternalblue", "severity": "critical", "src": src, "dst": "10.16.9.9", "dport": 445,
                    "first_seen": "2026-05-12T08:00:00Z", "last_seen": "2026-05-12T08:00:01Z", "count": 2,
                    "evidence": [f"from {src}"]} for src in ("10.19.1.77", "10.16.1.77")], "pcap", locate=False)


def path_of(name: str, *args) -> str:
    from django.urls import reverse

    return reverse(name, args=args)


@pytest.mark.parametrize("username", sorted(USERS))
def test_each_role_logs_in_through_the_form_and_lands_on_the_page_for_its_first_question(
        console_users, samples, alerts, live_server, username):
    console = Console()
    who = SHORT_NAMES[username]
    with browser(console) as page:
        landed = log_in(page, live_server.url, username)
        assert landed == path_of(FIRST_PAGES[username]), landed
        assert page.query_selector("header nav.sections a.active") is not None or landed == "/", page.url
        first = {"overview": "overview", "threat:alerts": "alerts", "inventory:devices": "devices"}
        screenshot(page, f"{first[FIRST_PAGES[username]]}-{who}")
        # The Overview, as this role sees it (its own scope: the engineer's county only).
        page.goto(f"{live_server.url}/")
        page.wait_for_selector("main h1")
        text = page.inner_text("main")
        assert "南江县" in text
        assert ("中心区" in text) == (who != "engineer"), text[:2000]
        screenshot(page, f"overview-{who}")
    console.assert_clean()


def test_the_manager_sees_every_section_without_errors(console_users, samples, alerts, live_server):
    console = Console()
    pages = {"coverage": "coverage", "bandwidth": "bandwidth:index", "expansion": "bandwidth:expansion",
             "devices": "inventory:devices", "links": "inventory:links", "compliance": "compliance:overview",
             "findings": "compliance:findings", "egress": "egress:index", "changes": "changes:index",
             "alerts": "threat:alerts"}
    with browser(console) as page:
        log_in(page, live_server.url, "manager")
        for label, name in pages.items():
            response = page.goto(live_server.url + path_of(name))
            assert response is not None and response.status == 200, (name, response and response.status)
            page.wait_for_selector("main h1, main table, main section")
            screenshot(page, f"{label}-manager")
    console.assert_clean()


def test_a_link_chart_draws_the_data_points_its_page_loaded(console_users, samples, live_server):
    console = Console()
    with browser(console) as page:
        log_in(page, live_server.url, "engineer-nanjiang")
        with page.expect_response(lambda response: "series.json" in response.url) as answer:
            page.goto(live_server.url + path_of("bandwidth:link", samples.pk))
        series = json.loads(answer.value.text())
        assert answer.value.status == 200 and len(series["points"]) >= 30, series
        page.wait_for_selector("#chart canvas")
        page.wait_for_function("""() => {
            const chart = window.echarts && echarts.getInstanceByDom(document.getElementById("chart"));
            const option = chart && chart.getOption();
            return option && option.series && option.series.length && option.series[0].data.length > 0;
        }""")
        drawn = page.evaluate("""() => echarts.getInstanceByDom(document.getElementById("chart")).getOption()
            .series.map(s => ({name: s.name, points: s.data.filter(p => p[1] !== null).length}))""")
        with_data = [s for s in drawn if s["points"]]
        assert len(with_data) >= 2, drawn  # down and up, each with the samples the page fetched
        loaded = sum(1 for point in series["points"] if point[1] is not None)
        assert with_data[0]["points"] == loaded, (drawn, loaded)
        assert all(re.search(r"[\u4e00-\u9fff]", s["name"]) for s in with_data), drawn  # labelled in Chinese
        screenshot(page, "link-chart-engineer")
    console.assert_clean()


def test_an_export_downloads_under_its_chinese_file_name(console_users, samples, live_server, tmp_path):
    console = Console()
    with browser(console) as page:
        log_in(page, live_server.url, "engineer-nanjiang")
        page.goto(live_server.url + path_of("inventory:devices"))
        for kind in ("csv", "xlsx"):
            with page.expect_download() as download:
                page.click(f"main .exports a[href$='export={kind}']")
            name = download.value.suggested_filename
            assert re.search(r"[\u4e00-\u9fff]", name) and name.endswith(f".{kind}"), name
            saved = tmp_path / f"export.{kind}"
            download.value.save_as(saved)
            assert saved.stat().st_size > 0
        text = (tmp_path / "export.csv").read_text("utf-8-sig")
        assert "nanjiang-agg-1" in text and "zhongxin-agg-1" not in text
    console.assert_clean()


def test_screenshots_go_to_the_folder_onenet_screenshots_names(monkeypatch, tmp_path):
    from tests import browser as helpers

    monkeypatch.setenv("ONENET_SCREENSHOTS", str(tmp_path / "shots"))
    assert screenshot_dir() == tmp_path / "shots" and (tmp_path / "shots").is_dir()
    monkeypatch.delenv("ONENET_SCREENSHOTS")
    assert helpers.screenshot_dir() == helpers.ROOT / "var" / "screenshots"


@pytest.mark.parametrize("username", sorted(USERS))
def test_logging_in_sends_each_role_to_its_first_page_unless_a_next_page_is_asked(client, console_users, username):
    from tests.browser import PASSWORD

    response = client.post(path_of("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == path_of(FIRST_PAGES[username])
    client.logout()
    response = client.post(path_of("login"), {"username": username, "password": PASSWORD,
                                              "next": path_of("coverage")})
    assert response["Location"] == path_of("coverage")


@pytest.mark.parametrize("chinese_font", [True, False])
def test_setup_installs_a_chinese_font_for_the_browser_when_none_is_there(tmp_path, chinese_font):
    """`./onenet setup`'s system_packages asks for fonts-noto-cjk exactly when no font covers Chinese (run as a
    non-root user here, so it names the missing packages instead of installing them)."""
    import subprocess
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "onenet").read_text()
    function = re.search(r"^system_packages\(\) \{\n.*?^\}\n", script, re.M | re.S).group(0)
    stubs = tmp_path / "bin"
    stubs.mkdir()
    font = "/usr/share/fonts/NotoSansCJK-Regular.ttc: Noto Sans CJK SC:style=Regular" if chinese_font else ""
    for name, body in {"fc-list": f"echo '{font}'" if font else "true", "dpkg": "exit 1", "id": "echo 1000"}.items():
        (stubs / name).write_text(f"#!/bin/sh\n{body}\n")
        (stubs / name).chmod(0o755)
    program = f"log() {{ printf '%s\\n' \"$*\"; }}\n{function}system_packages\n"
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", program], capture_output=True, text=True, timeout=60,
                            env={"PATH": f"{stubs}:/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert ("fonts-noto-cjk" in result.stdout) != chinese_font, result.stdout
