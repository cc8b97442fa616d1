"""The lab's traffic profile: a day/night shape whose counters are the exact integral of the rate."""

from datetime import datetime, timedelta, timezone

import pytest

from lab import profile
from lab.topology import Link, generate

SHANGHAI = timezone(timedelta(hours=8))


def at(hour: float, day: int = 26) -> float:
    """Unix time of a local (Asia/Shanghai) hour on a November 2026 day."""
    midnight = datetime(2026, 11, day, tzinfo=SHANGHAI).timestamp()
    return midnight + hour * 3600


LINK = Link("county-agg", "GigabitEthernet0/0/1", "town-ar", "GigabitEthernet0/0/1", 100_000_000,
            "county-township", 0.08, 0.5)
INTERNET = Link("city-egress-fw-1", "GigabitEthernet0/0/5", "isp-telecom-pe", "GigabitEthernet0/0/1",
                2_000_000_000, "internet", 0.25, 0.93)


def test_shape_is_low_at_night_and_high_in_office_hours_with_a_lunch_dip():
    night, ramp, morning, lunch, afternoon, evening = (profile.shape(at(h)) for h in (3, 8.5, 10.5, 12.75, 15, 21))
    assert night < 0.1
    assert night < ramp < morning
    assert morning > 0.9 and afternoon > 0.9
    assert lunch < 0.6 * morning
    assert night < evening < afternoon


def test_the_download_direction_is_heavier():
    t = at(10)
    assert profile.rate_bps(LINK, "ab", t) > 1.5 * profile.rate_bps(LINK, "ba", t)
    # on an internet link the download comes from the ISP side
    assert profile.rate_bps(INTERNET, "ba", t) > 1.5 * profile.rate_bps(INTERNET, "ab", t)


def test_rates_stay_between_base_and_peak_and_the_busy_internet_link_nears_saturation():
    topology = generate("demo", 1)
    day = [at(h / 4) for h in range(96)]
    for link in topology.links:
        for direction in ("ab", "ba"):
            rates = [profile.rate_bps(link, direction, t) for t in day]
            assert max(rates) <= link.capacity_bps * link.peak_utilisation + 1e-6
            assert min(rates) > 0
    busiest = max(profile.rate_bps(INTERNET, "ba", t) for t in day)
    assert busiest > 0.8 * INTERNET.capacity_bps


def test_octets_is_the_exact_integral_of_the_rate():
    since, t0, t1 = at(0), at(8.2), at(9.7)
    steps = 20_000
    width = (t1 - t0) / steps
    numeric = sum(profile.rate_bps(LINK, "ab", t0 + (k + 0.5) * width) for k in range(steps)) * width / 8
    exact = profile.octets(LINK, "ab", since, t1) - profile.octets(LINK, "ab", since, t0)
    assert exact == pytest.approx(numeric, rel=1e-6)
    assert profile.mean_rate_bps(LINK, "ab", t0, t1) * (t1 - t0) / 8 == pytest.approx(exact, abs=2)


def test_a_poller_reading_twice_gets_the_mean_rate_over_its_interval():
    boot = at(5, day=2)
    for t0 in (at(0.5), at(9), at(12.2), at(23.9)):
        t1 = t0 + 300
        delta = profile.octets(INTERNET, "ba", boot, t1) - profile.octets(INTERNET, "ba", boot, t0)
        assert delta * 8 / 300 == pytest.approx(profile.mean_rate_bps(INTERNET, "ba", t0, t1), abs=0.1)


def test_counters_over_many_days_are_cheap_and_grow_by_one_day_per_day():
    since = at(0, day=1)
    one_day = profile.octets(LINK, "ab", since, since + 86400)
    for days in (7, 30, 400):
        assert profile.octets(LINK, "ab", since, since + days * 86400) == pytest.approx(days * one_day, rel=1e-9)


def test_counters_are_monotonic_across_the_day_and_midnight():
    since = at(18, day=25)
    values = [profile.octets(LINK, "ba", since, since + k * 97.0) for k in range(1000)]
    assert values == sorted(values)
    assert values[0] == 0 and values[-1] > 0


def test_background_traffic_and_error_counts_are_small_and_deterministic():
    pc = profile.background("sw1:GigabitEthernet0/0/3", 1_000_000_000, busy=True)
    idle = profile.background("sw1:GigabitEthernet0/0/9", 1_000_000_000)
    assert pc == profile.background("sw1:GigabitEthernet0/0/3", 1_000_000_000, busy=True)
    assert profile.rate_bps(pc, "ab", at(10)) < 10_000_000
    assert profile.rate_bps(idle, "ab", at(10)) < profile.rate_bps(pc, "ab", at(10))
    rates = [profile.slow_count_rate(f"sw1:port{k}", "in-err") for k in range(200)]
    assert any(r == 0 for r in rates) and any(r > 0 for r in rates)
    assert all(r * 3600 <= 12 for r in rates)
    assert profile.count(rates[0] or 0.001, 0, 3600) == profile.count(rates[0] or 0.001, 0, 3600)


def test_direction_names_are_checked():
    with pytest.raises(ValueError):
        profile.rate_bps(LINK, "up", at(10))
