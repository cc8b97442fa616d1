"""An outbreak's incident triaged end to end in a real browser (Playwright driving Debian's chromium): the security
analyst lands on the queue, ticks the infected host's incident and assigns it to the county's engineer, who sees
it in their own queue and acknowledges it on its page; the analyst resolves it in bulk and the open-only queue no
longer lists it. No page logs an error or breaks the Content-Security-Policy. Screenshots: tests/browser.py.
"""

from __future__ import annotations

import pytest

from tests.browser import Console, browser, in_a_thread, log_in, log_out, screenshot
from tests.threat.test_incidents import row

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def outbreak(demo_inventory, make_user):
    """Two infected hosts in Nanjiang (one with three kinds of alert) and one in Zhongxin; the analyst is city-wide,
    the engineer Nanjiang's."""
    from threat.models import Incident
    from threat.services.alerts import ingest_alerts

    make_user("security", "security")
    make_user("engineer-nanjiang", "engineer", region="nanjiang")
    ingest_alerts([row("eternalblue", "10.19.1.13"), row("doublepulsar", "10.19.1.13", dst="10.19.1.31"),
                   row("smb-scan", "10.19.1.13", "high", dst=None), row("smb-scan", "10.19.1.14", "high", dst=None),
                   row("wannacry-killswitch", "10.16.1.13", "medium")], "pcap", locate=False)
    return {i.src: i for i in Incident.objects.all()}


def incident_now(pk: int):
    """The incident as the database holds it now (read outside Playwright's event loop)."""
    from threat.models import Incident

    return in_a_thread(lambda: Incident.objects.select_related("assignee").get(pk=pk))


def queue_hosts(page) -> list[str]:
    return [text for text in page.locator("table.incidents tbody td").all_inner_texts() if text.startswith("10.")]


def test_an_outbreak_incident_is_assigned_acknowledged_and_resolved_in_the_browser(outbreak, live_server):
    from threat.choices import IncidentStatus
    from threat.models import Incident

    infected = outbreak["10.19.1.13"]
    console = Console()
    with browser(console) as page:
        assert log_in(page, live_server.url, "security").rstrip("/").endswith("/threat/alerts")
        assert {"10.19.1.13", "10.19.1.14", "10.16.1.13"} <= set(queue_hosts(page))
        screenshot(page, "incidents-security")

        page.check(f"table.incidents input[name=incident][value='{infected.pk}']")
        page.select_option("form.bulk select[name=assignee]", "engineer-nanjiang")
        page.click("form.bulk button[value=assign]")
        page.wait_for_load_state()
        assert incident_now(infected.pk).assignee.username == "engineer-nanjiang"
        log_out(page)

        # The county's engineer sees the incident (and only their county's) and acknowledges it on its page.
        log_in(page, live_server.url, "engineer-nanjiang")
        page.goto(f"{live_server.url}/threat/alerts/")
        hosts = queue_hosts(page)
        assert "10.19.1.13" in hosts and "10.16.1.13" not in hosts
        page.click(f"table.incidents a[href$='/incidents/{infected.pk}/']")
        page.wait_for_load_state()
        assert page.locator("main").inner_text().count("10.19.1.13") >= 1
        assert page.locator("main a[href*='/threat/alerts/']").count() >= 3  # its three alerts, each linked
        page.click("form.inline button:has-text('确认')")
        page.wait_for_load_state()
        screenshot(page, "incident-engineer")
        assert incident_now(infected.pk).status == IncidentStatus.ACKNOWLEDGED
        log_out(page)

        # The analyst resolves it in bulk; the open-only queue lists it no more.
        log_in(page, live_server.url, "security")
        page.check(f"table.incidents input[name=incident][value='{infected.pk}']")
        page.click("form.bulk button[value=resolve]")
        page.wait_for_load_state()
        assert "10.19.1.13" not in queue_hosts(page) and "10.19.1.14" in queue_hosts(page)
        console.assert_clean()
    assert Incident.objects.get(pk=infected.pk).status == IncidentStatus.RESOLVED
    assert set(Incident.objects.get(pk=infected.pk).alerts.values_list("status", flat=True)) == {"resolved"}
