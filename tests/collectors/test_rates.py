"""collectors.snmp.rates: wraps, reboots, absurd values, bad timestamps (table-driven)."""

import pytest

from collectors.snmp.rates import (
    Sample,
    counter_delta,
    counter_rate,
    interface_rates,
    is_reboot,
    octet_rate_bps,
    utilisation,
)

W32 = 2**32
W64 = 2**64
GIG = 1_000_000_000


@pytest.mark.parametrize(
    "prev, cur, bits, expected",
    [
        (100, 300, 32, 200),
        (100, 300, 64, 200),
        (W32 - 100, 50, 32, 150),  # 32-bit wrap
        (W64 - 10, 5, 64, 15),  # 64-bit wrap
        (0, 0, 32, 0),
        (None, 5, 32, None),
        (5, None, 64, None),
        (W32 + 5, 10, 32, None),  # value does not fit a Counter32: garbage
        (-1, 10, 64, None),
        (1, 2, 16, None),  # unknown width
    ],
)
def test_counter_delta(prev, cur, bits, expected):
    assert counter_delta(prev, cur, bits) == expected


@pytest.mark.parametrize(
    "prev, cur, bits, speed, expected",
    [
        # 1 Gbit/s link, 10 s, 125 MB -> 100 Mbit/s
        (Sample(0, 0.0, 1000), Sample(125_000_000, 10.0, 2000), 64, GIG, 100_000_000.0),
        # 32-bit wrap inside the interval at 100 Mbit/s
        (Sample(W32 - 62_500_000, 0.0, 100), Sample(62_500_000, 10.0, 1100), 32, GIG, 100_000_000.0),
        # 64-bit wrap, bounded by speed: accepted
        (Sample(W64 - 1000, 0.0, 100), Sample(250, 10.0, 1100), 64, GIG, 1000.0),
        # 64-bit counter went back and no speed known: a reset, not a wrap
        (Sample(5_000_000, 0.0, 100), Sample(1000, 10.0, 1100), 64, None, None),
        # reboot: sysUpTime went back -> no rate even though the counter looks like it wrapped
        (Sample(W32 - 1000, 0.0, 900_000), Sample(500, 300.0, 3000), 32, GIG, None),
        (Sample(1000, 0.0, 900_000), Sample(5000, 300.0, 3000), 64, GIG, None),
        # equal timestamps / time going back
        (Sample(0, 5.0, 100), Sample(100, 5.0, 200), 64, GIG, None),
        (Sample(0, 6.0, 100), Sample(100, 5.0, 200), 64, GIG, None),
        # absurd: 10 Gbit/s on a 1 Gbit/s port
        (Sample(0, 0.0, 100), Sample(12_500_000_000, 10.0, 1100), 64, GIG, None),
        # 5 % above line rate is tolerated, 20 % is not
        (Sample(0, 0.0, 1), Sample(int(1.05 * GIG / 8 * 10), 10.0, 1001), 64, GIG, 1.05 * GIG),
        (Sample(0, 0.0, 1), Sample(int(1.2 * GIG / 8 * 10), 10.0, 1001), 64, GIG, None),
        # 32-bit counter reset that looks like a wrap gives an absurd rate on a slow port: discarded
        (Sample(4_000_000, 0.0, 1), Sample(10, 300.0, 30001), 32, 2_000_000, None),
        # unknown speed: no upper bound
        (Sample(0, 0.0, None), Sample(10**12, 1.0, None), 64, None, 8e12),
        # missing values
        (Sample(None, 0.0, 1), Sample(10, 1.0, 2), 64, GIG, None),
        # no uptime known: no reboot detection, plain rate
        (Sample(0, 0.0, None), Sample(1000, 8.0, None), 64, 0, 1000.0),
    ],
)
def test_octet_rate_bps(prev, cur, bits, speed, expected):
    got = octet_rate_bps(prev, cur, bits=bits, speed_bps=speed)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)
        assert got >= 0


@pytest.mark.parametrize(
    "prev, cur, expected",
    [(100, 200, False), (200, 100, True), (None, 100, False), (100, None, False), (5, 5, False)],
)
def test_is_reboot(prev, cur, expected):
    assert is_reboot(prev, cur) is expected


def test_counter_rate_never_negative():
    for prev, cur in [(10, 5), (W32 - 1, 0), (0, W32 - 1)]:
        r = counter_rate(Sample(prev, 0.0), Sample(cur, 1.0), bits=32)
        assert r is None or r >= 0


@pytest.mark.parametrize(
    "bps, speed, expected",
    [(5e8, GIG, 0.5), (2e9, GIG, 1.0), (1.0, 0, None), (None, GIG, None), (0.0, GIG, 0.0)],
)
def test_utilisation(bps, speed, expected):
    assert utilisation(bps, speed) == expected


def test_interface_rates_row():
    prev = {"timestamp": 0.0, "uptime": 100, "counter_bits": 64, "in_octets": 0, "out_octets": 1000,
            "in_errors": 0, "out_errors": 5, "in_discards": None, "out_discards": 0}
    cur = {"timestamp": 10.0, "uptime": 1100, "counter_bits": 64, "in_octets": 1250, "out_octets": 1000,
           "in_errors": 10, "out_errors": 5, "in_discards": 3, "out_discards": 0}
    r = interface_rates(prev, cur, speed_bps=GIG)
    assert r["in_bps"] == pytest.approx(1000.0)
    assert r["out_bps"] == 0.0
    assert r["in_errors_per_s"] == pytest.approx(1.0)
    assert r["out_errors_per_s"] == 0.0
    assert r["in_discards_per_s"] is None
    # width changed (64-bit fallback to 32-bit): no octet rate for that interval
    cur32 = dict(cur, counter_bits=32)
    assert interface_rates(prev, cur32, speed_bps=GIG)["in_bps"] is None
