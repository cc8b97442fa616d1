"""The engineer's tools on the device page: back up now / poll now (queued on the device's county queue, followed
to their result), the ARP/MAC/LLDP tables a backup read, and "where is this IP / MAC / hostname?"."""

import pytest
from django.urls import reverse

from tests.browser import in_a_thread
from tests.collectors.test_collect_now import memory_broker, queued  # noqa: F401 - the fixture, and its reader
from web.celery import app

pytestmark = pytest.mark.django_db


def device(name):
    from inventory.models import Device

    return Device.objects.get(name=name)


def run_queued(queue: str) -> list[dict]:
    """Take the task messages off `queue` and run each task here, for real (as a worker of that queue would)."""
    import collectors.tasks  # noqa: F401 - registers the tasks, as a worker's autodiscovery does

    results = []
    with app.connection_for_read() as connection:
        simple = connection.SimpleQueue(queue)
        while True:
            try:
                message = simple.get(block=False)
            except simple.Empty:
                break
            message.ack()
            args, kwargs, _ = message.decode()
            results.append(app.tasks[message.headers["task"]].apply(args=args, kwargs=kwargs).get())
        simple.close()
    return results


# ------------------------------------------------------------------ back up now / poll now: who, where, what


def test_back_up_now_queues_a_backup_of_the_device_on_its_county_queue(client, demo_inventory, make_user,
                                                                         memory_broker):  # noqa: F811
    router = device("nanjiang-agg-1")
    client.force_login(make_user("eng", "engineer", region="nanjiang"))
    response = client.post(reverse("bandwidth:device_backup", args=[router.pk]))
    assert response.status_code == 302 and response.url == reverse("inventory:device", args=[router.pk])
    sent = queued("county.nanjiang")
    assert [m["task"] for m in sent] == ["collectors.backup_device"]
    assert f"'device_id': {router.pk}" in sent[0]["kwargsrepr"]
    assert queued("city") == [] and queued("county.zhongxin") == []


def test_poll_now_queues_a_poll_of_the_device_with_a_queued_run(client, demo_inventory, make_user,
                                                                memory_broker):  # noqa: F811
    from collectors.models import PollRun

    router = device("nanjiang-agg-1")
    client.force_login(make_user("eng", "engineer", region="nanjiang"))
    client.post(reverse("bandwidth:device_poll", args=[router.pk]))
    sent = queued("county.nanjiang")
    assert [m["task"] for m in sent] == ["collectors.poll_device"]
    run = PollRun.objects.get(scope="device:nanjiang-agg-1")
    assert run.status == "queued" and f"'run_id': {run.pk}" in sent[0]["kwargsrepr"]
    status = client.get(reverse("bandwidth:device_jobs", args=[router.pk])).json()
    assert status["open"] and [j["status"] for j in status["jobs"]] == ["queued"]
    # Pressed again while it is queued: refused, nothing more is sent.
    client.post(reverse("bandwidth:device_poll", args=[router.pk]))
    assert queued("county.nanjiang") == []


def test_a_city_level_device_is_polled_on_the_city_queue(client, demo_inventory, make_user,
                                                         memory_broker):  # noqa: F811
    from inventory.models import Device

    core = Device.objects.filter(site__region__level="city", status="active").order_by("name").first()
    client.force_login(make_user("eng", "engineer"))
    client.post(reverse("bandwidth:device_backup", args=[core.pk]))
    assert [m["task"] for m in queued("city")] == ["collectors.backup_device"]


@pytest.mark.parametrize("role", ["manager", "security"])
def test_only_engineers_and_admins_may_back_up_or_poll_now(client, demo_inventory, make_user, role,
                                                           memory_broker):  # noqa: F811
    router = device("nanjiang-agg-1")
    client.force_login(make_user("someone", role))
    for name in ("bandwidth:device_backup", "bandwidth:device_poll"):
        assert client.post(reverse(name, args=[router.pk])).status_code == 403
    assert queued("county.nanjiang") == []
    page = client.get(reverse("inventory:device", args=[router.pk])).content.decode()
    assert reverse("bandwidth:device_backup", args=[router.pk]) not in page


def test_an_admin_sees_the_buttons_and_a_get_changes_nothing(client, demo_inventory, make_user,
                                                             memory_broker):  # noqa: F811
    router = device("nanjiang-agg-1")
    client.force_login(make_user("root", "admin"))
    page = client.get(reverse("inventory:device", args=[router.pk])).content.decode()
    assert reverse("bandwidth:device_backup", args=[router.pk]) in page
    assert reverse("bandwidth:device_poll", args=[router.pk]) in page
    assert client.get(reverse("bandwidth:device_backup", args=[router.pk])).status_code == 405
    assert queued("county.nanjiang") == []


def test_a_county_engineer_may_not_back_up_or_poll_another_countys_device(client, demo_inventory, make_user,
                                                                          memory_broker):  # noqa: F811
    from collectors.models import PollRun

    other = device("zhongxin-agg-1")
    client.force_login(make_user("eng", "engineer", region="nanjiang"))
    for name in ("bandwidth:device_backup", "bandwidth:device_poll", "bandwidth:device_jobs"):
        method = client.get if name.endswith("jobs") else client.post
        assert method(reverse(name, args=[other.pk])).status_code == 404
    assert queued("county.zhongxin") == [] and not PollRun.objects.exists()


def test_the_buttons_need_the_csrf_token(demo_inventory, make_user, memory_broker):  # noqa: F811
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("eng", "engineer"))
    assert strict.post(reverse("bandwidth:device_backup", args=[device("nanjiang-agg-1").pk])).status_code == 403
    assert queued("county.nanjiang") == []


@pytest.mark.lab
def test_the_device_page_shows_the_result_of_a_real_backup_and_poll(client, lab_inventory, make_user,
                                                                    memory_broker):  # noqa: F811
    from collectors.models import ConfigVersion

    router = device("nanjiang-agg-1")
    client.force_login(make_user("eng", "engineer", region="nanjiang"))
    client.post(reverse("bandwidth:device_backup", args=[router.pk]))
    page = client.get(reverse("inventory:device", args=[router.pk])).content.decode()
    assert "run-queued" in page and "device-jobs.js" in page  # the page follows it
    [result] = run_queued("county.nanjiang")
    assert result["devices"][0]["status"] == "changed"
    status = client.get(reverse("bandwidth:device_jobs", args=[router.pk])).json()
    assert not status["open"] and status["jobs"][0]["status"] == "done"
    version = ConfigVersion.objects.get(device=router)
    assert status["jobs"][0]["version"] == version.pk
    page = client.get(reverse("inventory:device", args=[router.pk])).content.decode()
    assert "run-done" in page and reverse("config_version", args=[version.pk]) in page

    # Again: the config did not change, and the page says so.
    client.post(reverse("bandwidth:device_backup", args=[router.pk]))
    [result] = run_queued("county.nanjiang")
    assert result["devices"][0]["status"] == "unchanged"
    job = client.get(reverse("bandwidth:device_jobs", args=[router.pk])).json()["jobs"][0]
    assert job["status"] == "done" and job["version"] is None
    assert ConfigVersion.objects.filter(device=router).count() == 1

    client.post(reverse("bandwidth:device_poll", args=[router.pk]))
    [result] = run_queued("county.nanjiang")
    assert result["devices_polled"] == 1 and result["interfaces"] > 0
    jobs = {j["kind"]: j for j in client.get(reverse("bandwidth:device_jobs", args=[router.pk])).json()["jobs"]}
    assert jobs["poll"]["status"] == "done" and str(result["interfaces"]) in jobs["poll"]["text"]


@pytest.mark.lab
def test_a_failed_backup_shows_as_failed(client, lab_inventory, make_user, memory_broker):  # noqa: F811
    from inventory.models import Device

    router = device("nanjiang-agg-1")
    Device.objects.filter(pk=router.pk).update(address="127.0.0.0")  # nothing answers there
    client.force_login(make_user("eng", "engineer"))
    client.post(reverse("bandwidth:device_backup", args=[router.pk]))
    [result] = run_queued("county.nanjiang")
    assert result["failed"] == 1
    job = client.get(reverse("bandwidth:device_jobs", args=[router.pk])).json()["jobs"][0]
    assert (job["status"], job["open"]) == ("failed", False)


# ------------------------------------------------------------------ ARP / MAC / LLDP on the device page


def nanjiang_host(lab):
    return next(h for h in lab.hosts if h.switch.startswith("nanjiang-") and h.gateway.startswith("nanjiang-"))


@pytest.fixture
def backed_up_host(lab_inventory):
    """A Nanjiang lab host whose gateway (ARP) and access switch (MAC table) were backed up for real."""
    from collectors.services.backup import backup_devices

    host = nanjiang_host(lab_inventory)
    for name in (host.gateway, host.switch):
        assert backup_devices(device_name=name)["failed"] == 0
    return host


@pytest.mark.lab
def test_the_device_page_shows_the_arp_mac_and_lldp_tables_of_a_real_backup(client, backed_up_host, make_user):
    client.force_login(make_user("eng", "engineer", region="nanjiang"))
    gateway = client.get(reverse("inventory:device", args=[device(backed_up_host.gateway).pk])).content.decode()
    assert backed_up_host.ip in gateway  # its ARP entry
    assert backed_up_host.switch in gateway  # the switch is its LLDP neighbour
    switch = client.get(reverse("inventory:device", args=[device(backed_up_host.switch).pk]))
    rows = switch.context["tables"]["mac"]["rows"]
    digits = backed_up_host.mac.replace(":", "")
    [entry] = [r for r in rows if r.mac.replace("-", "").replace(".", "").replace(":", "").lower() == digits]
    assert entry.port == backed_up_host.port and entry.port in switch.content.decode()


def test_device_strings_in_the_tables_are_escaped_and_the_tables_capped(client, demo_inventory, make_user):
    from django.utils import timezone

    from collectors.models import ArpEntry, LldpNeighbor, MacEntry

    router, now = device("nanjiang-agg-1"), timezone.now()
    ArpEntry.objects.bulk_create([ArpEntry(device=router, ip=f"10.19.{i // 250}.{i % 250 + 1}", mac="aa:bb:cc:00:00:01",
                                           interface="<script>alert(1)</script>", seen_at=now) for i in range(130)])
    MacEntry.objects.create(device=router, mac="aabb-cc00-0001", vlan=1, port="<img src=x onerror=alert(2)>",
                            seen_at=now)
    LldpNeighbor.objects.create(device=router, local_port="Gi0/0/1", neighbor_name="<b>evil</b>", seen_at=now)
    client.force_login(make_user("eng", "engineer"))
    page = client.get(reverse("inventory:device", args=[router.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "<b>evil</b>" not in page and "&lt;b&gt;evil&lt;/b&gt;" in page
    assert page.count("&lt;script&gt;alert(1)") == 100  # capped …
    assert "(130)" in page  # … with the count


# ------------------------------------------------------------------ where is this IP / MAC / hostname?


def where(client, query):
    response = client.get(reverse("bandwidth:where"), {"q": query})
    assert response.status_code == 200
    return response.context["answer"]


def located(answer, host) -> bool:
    return any(p.device.name == host.switch and p.port == host.port and not p.uplink for p in answer["ports"])


@pytest.mark.lab
def test_where_finds_a_lab_hosts_switch_and_port_by_ip_mac_and_hostname(client, backed_up_host, make_user):
    host = backed_up_host
    client.force_login(make_user("eng", "engineer", region="nanjiang"))
    by_ip = where(client, host.ip)
    assert by_ip["kind"] == "ip" and located(by_ip, host)
    assert [a.device.name for a in by_ip["arp"]] == [host.gateway]
    page = client.get(reverse("bandwidth:where"), {"q": host.ip}).content.decode()
    assert host.switch in page and host.port in page and host.gateway in page

    digits = host.mac.replace(":", "")
    for notation in (host.mac.lower(), f"{digits[:4]}-{digits[4:8]}-{digits[8:]}",
                     f"{digits[:4]}.{digits[4:8]}.{digits[8:]}".upper()):
        by_mac = where(client, notation)
        assert by_mac["kind"] == "mac" and located(by_mac, host), notation
        assert [a.ip for a in by_mac["arp"]] == [host.ip], notation

    by_name = where(client, host.switch)
    assert by_name["kind"] == "name" and [d.name for d in by_name["devices"]] == [host.switch]
    assert any(n.device.name == host.gateway and n.neighbor_name == host.switch for n in by_name["lldp"])


@pytest.mark.lab
def test_where_finds_nothing_outside_a_county_users_scope(client, backed_up_host, make_user):
    host = backed_up_host
    client.force_login(make_user("eng-zx", "engineer", region="zhongxin"))
    for query in (host.ip, host.mac, host.switch):
        answer = where(client, query)
        assert answer["ports"] == [] and answer["arp"] == [] and answer["lldp"] == [] and answer["devices"] == []
    page = client.get(reverse("bandwidth:where"), {"q": host.ip}).content.decode()
    assert host.switch not in page and host.gateway not in page


def test_where_bounds_its_input_and_reads_mac_notations(client, demo_inventory, make_user):
    from collectors.services.locate import mac_digits, query_kind

    assert {mac_digits(m) for m in ("aa:bb:cc:dd:ee:ff", "AABB-CCDD-EEFF", "aabb.ccdd.eeff", "aa-bb-cc-dd-ee-ff",
                                    "AABBCCDDEEFF")} == {"aabbccddeeff"}
    assert mac_digits("aa:bb:cc:dd:ee") is None and mac_digits("aabb.ccdd-eeff") is None
    assert query_kind("10.19.1.77") == "ip" and query_kind("fe80::1") == "ip" and query_kind("nanjiang") == "name"
    client.force_login(make_user("eng", "engineer"))
    assert len(where(client, "x" * 10_000)["query"]) == 100
    assert where(client, "")["kind"] is None and where(client, "\x00")["kind"] is None
    assert where(client, "nanjiang-agg\x00-1\x1b")["query"] == "nanjiang-agg-1"


def test_the_search_box_is_on_every_page(client, demo_inventory, make_user):
    client.force_login(make_user("boss", "manager"))
    for name in ("overview", "inventory:devices", "bandwidth:index"):
        assert f'action="{reverse("bandwidth:where")}"' in client.get(reverse(name)).content.decode()


@pytest.mark.lab
@pytest.mark.django_db(transaction=True)
def test_back_up_now_shows_its_progress_in_a_browser_until_the_tables_appear(lab_inventory, make_user, live_server,
                                                                             memory_broker):  # noqa: F811
    """Real chromium: the engineer presses 'back up now', the page says it is queued and follows it; a worker of
    the county's queue (here, this process) backs the switch up for real; the page then shows it done, with the
    MAC table the backup read. The search box then finds the host's port."""
    from tests.browser import Console, browser, log_in, screenshot

    host = nanjiang_host(lab_inventory)
    switch = device(host.switch)
    make_user("eng-browser", "engineer", region="nanjiang")
    console = Console()
    with browser(console) as page:
        log_in(page, live_server.url, "eng-browser")
        page.goto(live_server.url + reverse("inventory:device", args=[switch.pk]))
        page.click("form[action$='/backup/'] button")
        page.wait_for_selector("#device-jobs li.job-backup.run-queued")
        [result] = in_a_thread(run_queued, "county.nanjiang")  # Playwright's loop makes this thread async
        assert result["devices"][0]["status"] == "changed"
        page.wait_for_selector("#device-jobs li.job-backup.run-done")  # the page reloaded by itself
        page.wait_for_selector(f"table.mac td:has-text('{host.port}')")
        screenshot(page, "device-backed-up-engineer")
        page.fill("header form.where input[name=q]", host.mac.upper().replace(":", "-"))
        page.press("header form.where input[name=q]", "Enter")
        page.wait_for_selector(f"table.where-ports td:has-text('{host.port}')")
        screenshot(page, "where-is-engineer")
    console.assert_clean("/inventory/")
    console.assert_clean("/bandwidth/")
