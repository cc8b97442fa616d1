"""Availability, SLA-style: the share of a device's polls it answered, from real polls of the lab's SNMP agents (some
lab devices are silent by design), per device and per county, never double counted, and a monthly report managers
export."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from collectors.models import DeviceAvailability, DeviceState, SnmpState
from collectors.services import polling
from collectors.services.availability import (
    availability_by_county,
    county_of,
    device_availability,
    poll_slot,
    prune_availability,
    slot_hour,
)
from inventory.models import Device
from inventory.services.coverage import coverage_report
from tests.collectors.test_polling import silent_devices

pytestmark = pytest.mark.django_db

HOUR = 3600  # one poll slot an hour: a cycle and its retry a few seconds later fall in the same slot


@pytest.fixture(scope="module")
def polled_and_retried(lab, lab_ports, django_db_setup, django_db_blocker):
    """The test lab imported and polled, then the cycle run again at once (a retry), in one poll slot.

    Yields (topology, the slot both cycles fell in)."""
    from django.conf import settings

    from inventory.services import import_document
    from lab.services import inventory_document

    saved = (settings.ONENET_SNMP_TIMEOUT, settings.ONENET_SNMP_RETRIES, settings.ONENET_POLL_CONCURRENCY,
             settings.ONENET_POLL_INTERVAL_S)
    # As tests/collectors/test_polling.py: fewer requests in flight and a longer timeout, so a device that answers
    # late on a busy machine does not count as silent.
    settings.ONENET_SNMP_TIMEOUT, settings.ONENET_SNMP_RETRIES, settings.ONENET_POLL_CONCURRENCY = 5.0, 1, 8
    settings.ONENET_POLL_INTERVAL_S = HOUR
    with django_db_blocker.unblock():
        import_document(inventory_document(lab, *lab_ports), "test-lab")
        for _attempt in range(3):  # both cycles in one slot: start again in the next slot if an hour turned
            DeviceAvailability.objects.all().delete()
            slot = poll_slot(timezone.now())
            polling.poll_cycle()
            polling.poll_cycle()
            if poll_slot(timezone.now()) == slot:
                break
        else:
            pytest.fail("three pairs of cycles straddled an hour")
        yield lab, slot
        call_command("flush", "--noinput", verbosity=0)
    (settings.ONENET_SNMP_TIMEOUT, settings.ONENET_SNMP_RETRIES, settings.ONENET_POLL_CONCURRENCY,
     settings.ONENET_POLL_INTERVAL_S) = saved


@pytest.fixture
def hourly(settings, polled_and_retried):
    settings.ONENET_POLL_INTERVAL_S = HOUR
    return polled_and_retried


def answering(topology) -> set[str]:
    """The devices polled that answered (the silent ones by design never do)."""
    return set(DeviceState.objects.filter(snmp_state=SnmpState.UP).values_list("device__name", flat=True))


def test_an_answering_device_is_available_100_percent_and_a_silent_one_0_percent(hourly):
    topology, _slot = hourly
    silent = silent_devices(topology)
    up = answering(topology)
    assert silent and len(up) > 50
    names = dict(Device.objects.values_list("pk", "name"))
    shares = {names[pk]: figures for pk, figures in device_availability(Device.objects.all()).items()}
    for name in silent:
        assert shares[name] == {"24h": 0.0, "7d": 0.0, "30d": 0.0}
    for name in up:
        assert shares[name] == {"24h": 1.0, "7d": 1.0, "30d": 1.0}


def test_a_retried_cycle_is_not_counted_twice(hourly):
    topology, slot = hourly
    rows = DeviceAvailability.objects.filter(hour=slot_hour(slot))
    polled = set(polling.pollable_devices().values_list("pk", flat=True))
    assert set(rows.values_list("device_id", flat=True)) == polled
    assert set(rows.values_list("polls", flat=True)) == {1}  # two cycles, one slot: one poll each
    assert DeviceAvailability.objects.count() == len(polled)


def test_availability_rolls_up_per_county(hourly):
    topology, _slot = hourly
    by_county = availability_by_county(Device.objects.all())
    expected = {}
    for path, polls, answered in DeviceAvailability.objects.values_list("device__site__region__path", "polls",
                                                                         "answered"):
        row = expected.setdefault(county_of(path), [0, 0])
        row[0] += polls
        row[1] += answered
    assert {k: [v["24h"]["polls"], v["24h"]["answered"]] for k, v in by_county.items()} == expected
    silent_county = county_of(Device.objects.get(name=sorted(silent_devices(topology))[0]).site.region.path)
    assert by_county[silent_county]["24h"]["share"] < 1.0
    # The coverage tree shows the same per region row.
    report = coverage_report("/")
    counties = {r["slug"]: r for r in report["counties"]}
    for slug, figures in by_county.items():
        if slug in counties:
            assert counties[slug]["polls_24h"] == figures["24h"]["polls"]
            assert counties[slug]["answered_24h"] == figures["24h"]["answered"]
    assert report["totals"]["polls_24h"] == sum(v[0] for v in expected.values())


def test_the_overview_shows_availability_per_county(hourly, make_user):
    from web.overview import overview

    topology, _slot = hourly
    figures = overview(make_user("boss", "manager"))
    card = next(c for c in figures["cards"] if c.key == "availability")
    by_county = availability_by_county(Device.objects.filter(status="active", expect_polling=True))
    assert card.figure == pytest.approx(sum(b["24h"]["answered"] for b in by_county.values())
                                        / sum(b["24h"]["polls"] for b in by_county.values()))
    rows = {row["key"]: row for row in figures["rows"]}
    for key, figures_of_county in by_county.items():
        assert rows[key]["figures"]["availability"] == pytest.approx(figures_of_county["24h"]["share"])


def test_the_device_list_shows_availability_and_filters_below_99_percent(hourly, client, make_user):
    topology, _slot = hourly
    client.force_login(make_user("boss", "manager"))
    response = client.get(reverse("inventory:devices"), {"availability": "0.99", "page": 1})
    listed = {row["cells"][0] for row in response.context["rows"]}
    low = set(DeviceAvailability.objects.filter(answered__lt=1).values_list("device__name", flat=True))
    assert silent_devices(topology) <= low and listed == low
    name = sorted(answering(topology))[0]
    page = client.get(reverse("inventory:devices"), {"q": name}).content.decode()
    assert "100.0%" in page
    client.force_login(make_user("engineer-nj", "engineer", region="nanjiang"))
    response = client.get(reverse("inventory:devices"), {"availability": "0.99"})
    in_county = set(Device.objects.filter(name__in=low, site__region__path__startswith="/city/nanjiang/")
                    .values_list("name", flat=True))
    assert {row["cells"][0] for row in response.context["rows"]} == in_county


def test_the_monthly_report_exports_availability_as_numbers(hourly, client, make_user):
    from openpyxl import load_workbook

    topology, _slot = hourly
    client.force_login(make_user("boss", "manager"))
    month = f"{timezone.localtime():%Y-%m}"
    page = client.get(reverse("availability:report"), {"month": month})
    assert page.status_code == 200 and page.context["total"] == DeviceAvailability.objects.count()
    book = load_workbook(io.BytesIO(client.get(reverse("availability:report"),
                                               {"month": month, "export": "xlsx"}).content))
    sheet = book.active
    column = len(list(sheet[1])) - 1  # the last column: availability
    shares = {row[0].value: row[column] for row in sheet.iter_rows(min_row=2)}
    silent = sorted(silent_devices(topology))[0]
    assert shares[silent].value == 0.0 and shares[silent].number_format == "0.0%"
    up = sorted(answering(topology))[0]
    assert shares[up].value == 1.0
    counties = client.get(reverse("availability:report"), {"month": month, "per": "county", "export": "csv"})
    lines = counties.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) > 2
    assert all(0.0 <= float(line.rsplit(",", 1)[1]) <= 1.0 for line in lines[1:])
    # The previous month holds no polls yet; a month the report does not offer shows this one.
    previous = f"{(timezone.localtime().replace(day=1) - timedelta(days=1)):%Y-%m}"
    assert client.get(reverse("availability:report"), {"month": previous}).context["total"] == 0
    assert client.get(reverse("availability:report"), {"month": "2001-01"}).context["total"] == page.context["total"]


def test_buckets_older_than_35_days_are_pruned_but_the_previous_month_stays_whole(demo_inventory):
    from datetime import UTC, datetime

    device = Device.objects.first()
    now = datetime(2026, 3, 20, 12, tzinfo=UTC)
    for day in (datetime(2026, 1, 20, 8, tzinfo=UTC), datetime(2026, 2, 5, 8, tzinfo=UTC),
                datetime(2026, 3, 1, 8, tzinfo=UTC)):
        DeviceAvailability.objects.create(device=device, hour=day, polls=3)
    assert prune_availability(now) == {"availability_pruned": 1}
    kept = DeviceAvailability.objects.filter(device=device, hour__lt=now).values_list("hour__month", flat=True)
    assert sorted(kept) == [2, 3]  # February is older than 35 days, but its monthly report stays whole


def test_a_poll_answered_after_a_failed_try_in_the_same_slot_counts_once_and_answered(settings, demo_inventory):
    from collectors.services.availability import record_polls

    device = Device.objects.first()
    when = timezone.now() - timedelta(days=10)  # an hour no other test polls
    record_polls({device.pk: False}, when)
    record_polls({device.pk: True}, when)
    record_polls({device.pk: True}, when)
    row = DeviceAvailability.objects.get(device=device, hour=slot_hour(poll_slot(when)))
    assert (row.polls, row.answered) == (1, 1)
    record_polls({device.pk: False}, when + timedelta(seconds=settings.ONENET_POLL_INTERVAL_S))
    polls = DeviceAvailability.objects.filter(device=device, hour__lt=timezone.now() - timedelta(days=1)).aggregate(
        polls=Sum("polls"), answered=Sum("answered"))
    assert polls == {"polls": 2, "answered": 1}  # the next slot counts, unanswered
