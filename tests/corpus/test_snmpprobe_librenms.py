"""probe() against real SNMP agents (snmpsim over UDP) serving third-party recordings.

Recordings and expected results come from LibreNMS' test suite and snmpsim's own data
(../shared/corpus, see its README). Skips when the corpus is absent, fails instead when
ONENET_REQUIRE_CORPUS=1.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collectors.snmp.client import SnmpError, SnmpTarget, get_scalars
from collectors.snmp.probe import probe

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
LIBRENMS = CORPUS / "librenms" / "tests"
CAT3750 = CORPUS / "snmpsim" / "data" / "recorded" / "cisco-catalyst-3750.snmprec"
LIBRENMS_DEVICES = ["vrp_5720", "comware", "ios_2960x", "vrp"]
REQUIRE = os.environ.get("ONENET_REQUIRE_CORPUS") == "1"
V3_USER, V3_KEY = "onenet", "onenet-auth-key"


def _skip_or_fail(reason: str):
    if REQUIRE:
        pytest.fail(f"{reason} (ONENET_REQUIRE_CORPUS=1)")
    pytest.skip(reason)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _snmpsim_cmd() -> list[str] | None:
    try:
        import snmpsim.commands.responder  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-c", "import sys; from snmpsim.commands.responder import main; sys.exit(main())"]


async def _answers(port: int, community: str) -> bool:
    t = SnmpTarget("127.0.0.1", port, community, timeout=0.5, retries=0, deadline=2)
    try:
        return bool(await get_scalars(t, ["1.3.6.1.2.1.1.2.0"]))
    except SnmpError:
        return False


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    """One snmpsim agent on 127.0.0.1:<free port>; community = recording name."""
    if not LIBRENMS.is_dir():
        _skip_or_fail(f"corpus not found at {CORPUS}")
    cmd = _snmpsim_cmd()
    if cmd is None:
        _skip_or_fail("snmpsim is not installed (pip install snmpsim==1.2.2 pysmi)")
    base = tmp_path_factory.mktemp("snmpsim")
    data, cache = base / "data", base / "cache"
    data.mkdir()
    cache.mkdir()
    # copies, not symlinks: snmpsim derives the community from the resolved path
    for name in LIBRENMS_DEVICES:
        src = LIBRENMS / "snmpsim" / f"{name}.snmprec"
        if src.exists():
            shutil.copyfile(src, data / f"{name}.snmprec")
    if CAT3750.exists():
        shutil.copyfile(CAT3750, data / "cisco-catalyst-3750.snmprec")
    for p in (base, data, cache, *data.iterdir()):
        p.chmod(0o777 if p.is_dir() else 0o644)
    port = _free_udp_port()
    env = dict(os.environ)
    # as root snmpsim wants to drop privileges to a user who cannot read a venv under /root: allow root
    env["SNMPSIM_ALLOW_ROOT"] = "true"
    log = open(base / "snmpsim.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [*cmd, f"--data-dir={data}", f"--cache-dir={cache}", f"--agent-udpv4-endpoint=127.0.0.1:{port}",
         "--logging-method=stderr", "--log-level=error", "--max-var-binds=256",
         f"--v3-user={V3_USER}", f"--v3-auth-key={V3_KEY}", "--v3-auth-proto=SHA"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 45
        ok = False
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if asyncio.run(_answers(port, "vrp")):
                ok = True
                break
            time.sleep(0.2)
        if not ok:
            log.flush()
            tail = (base / "snmpsim.log").read_text(errors="replace")[-2000:]
            pytest.fail(f"snmpsim did not answer on 127.0.0.1:{port} (exit {proc.poll()}):\n{tail}")
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


_PROBED: dict = {}


def _probe(port: int, community: str) -> dict:
    """probe() once per recording and agent (the agent is slow: pure-Python snmpsim on dbm.dumb)."""
    key = (port, community)
    if key not in _PROBED:
        _PROBED[key] = probe("127.0.0.1", port, community, timeout=3, retries=1)
    return _PROBED[key]


def _expected(name: str) -> dict:
    return json.loads((LIBRENMS / "data" / f"{name}.json").read_text())


@pytest.mark.parametrize("name", LIBRENMS_DEVICES)
def test_system_matches_librenms(agent, name):
    exp = _expected(name)["os"]["discovery"]["devices"][0]
    got = _probe(agent, name)
    sysinfo = got["system"]
    assert set(sysinfo) == {"sysDescr", "sysObjectID", "sysName", "sysUpTime", "platform", "vendor", "model",
                            "os_version"}
    assert sysinfo["sysDescr"] == exp["sysDescr"]
    assert "." + sysinfo["sysObjectID"] == exp["sysObjectID"]
    platform = {"vrp": "huawei_vrp", "comware": "hp_comware", "ios": "cisco_ios"}[exp["os"]]
    assert sysinfo["platform"] == platform
    assert sysinfo["model"] == exp["hardware"]
    # LibreNMS appends a licence state ("[unlocked]") read from a Huawei-private MIB; not a version
    assert sysinfo["os_version"] == exp["version"].replace(" [unlocked]", "")


def _norm_speed(v):
    return None if not v else int(v)


@pytest.mark.parametrize("name", [n for n in LIBRENMS_DEVICES if n != "vrp"])
def test_ports_match_librenms(agent, name):
    ports = _expected(name)["ports"]["poller"]["ports"]
    got = {row["ifIndex"]: row for row in _probe(agent, name)["interfaces"]}
    assert set(got) == {p["ifIndex"] for p in ports}
    mismatches = []
    for p in ports:
        g = got[p["ifIndex"]]
        # LibreNMS shows ifDescr where ifAlias is empty, and no speed where it is 0
        exp_alias = p["ifAlias"]
        alias_ok = g["ifAlias"] == exp_alias or (not g["ifAlias"] and exp_alias == p["ifDescr"])
        pairs = [
            ("ifName", g["ifName"], p["ifName"]),
            ("ifDescr", g["ifDescr"], p["ifDescr"]),
            ("ifType", g["ifType"], p["ifType"]),
            ("speed", _norm_speed(g["speed_bps"]), _norm_speed(p["ifSpeed"])),
            ("oper", g["oper_status"], p["ifOperStatus"]),
            ("admin", g["admin_status"], p["ifAdminStatus"]),
            ("mtu", g["mtu"], p["ifMtu"]),
            ("mac", g["mac"] or None, p["ifPhysAddress"] or None),
            ("in_octets", g["in_octets"] or 0, p["ifInOctets"] or 0),
            ("out_octets", g["out_octets"] or 0, p["ifOutOctets"] or 0),
            ("in_errors", g["in_errors"] or 0, p["ifInErrors"] or 0),
            ("out_errors", g["out_errors"] or 0, p["ifOutErrors"] or 0),
            ("in_discards", g["in_discards"] or 0, p["ifInDiscards"] or 0),
            ("out_discards", g["out_discards"] or 0, p["ifOutDiscards"] or 0),
        ]
        if not alias_ok:
            mismatches.append((p["ifIndex"], "ifAlias", g["ifAlias"], exp_alias))
        mismatches += [(p["ifIndex"], f, a, b) for f, a, b in pairs if a != b]
    assert not mismatches, mismatches[:20]


def _rec_column(path: Path, col: str) -> dict[int, int]:
    out = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        oid, _, rest = line.partition("|")
        if oid.startswith(col + "."):
            tag, _, value = rest.partition("|")
            suffix = oid[len(col) + 1:]
            if suffix.isdigit() and tag in ("65", "70", "2", "66"):
                out[int(suffix)] = int(value)
    return out


def test_cisco_3750_prefers_64bit_counters(agent):
    if not CAT3750.exists():
        _skip_or_fail(f"{CAT3750} not found")
    got = _probe(agent, "cisco-catalyst-3750")
    assert got["system"]["platform"] == "cisco_ios"
    assert got["system"]["vendor"] == "Cisco"
    assert got["system"]["os_version"] == "12.2(50)SE5"
    assert got["system"]["model"] == "WS-C3750G-12S-S"
    assert got["system"]["sysName"] == "DUMSYS-90"
    hc_in = _rec_column(CAT3750, "1.3.6.1.2.1.31.1.1.1.6")
    hc_out = _rec_column(CAT3750, "1.3.6.1.2.1.31.1.1.1.10")
    in32 = _rec_column(CAT3750, "1.3.6.1.2.1.2.2.1.10")
    assert hc_in and in32
    rows = {r["ifIndex"]: r for r in got["interfaces"]}
    assert set(hc_in) <= set(rows)
    for idx, value in hc_in.items():
        assert rows[idx]["in_octets"] == value
        assert rows[idx]["out_octets"] == hc_out[idx]
    # at least one interface where the 64-bit value differs from the wrapped 32-bit one
    assert any(hc_in[i] != in32.get(i) for i in hc_in)


def test_cisco_3750_interfaces_without_64bit_counters_report_their_32bit_ones(agent):
    """The recording's stack port and Null0 have ifInOctets but no ifHCInOctets: traffic per interface, not per
    device (the 64-bit counters of the other ports must not hide the 32-bit ones of these two)."""
    if not CAT3750.exists():
        _skip_or_fail(f"{CAT3750} not found")
    rows = {r["ifIndex"]: r for r in _probe(agent, "cisco-catalyst-3750")["interfaces"]}
    expected = {}
    for bits, in_col, out_col in ((32, "1.3.6.1.2.1.2.2.1.10", "1.3.6.1.2.1.2.2.1.16"),
                                  (64, "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.31.1.1.1.10")):
        ins, outs = _rec_column(CAT3750, in_col), _rec_column(CAT3750, out_col)
        expected.update({idx: (ins[idx], outs.get(idx), bits) for idx in ins})  # 64-bit ones override
    only_32 = {idx for idx, (_, _, bits) in expected.items() if bits == 32}
    assert only_32, "the recording has interfaces with 32-bit counters only"
    got = {idx: (rows[idx]["in_octets"], rows[idx]["out_octets"], rows[idx]["counter_bits"]) for idx in expected}
    assert got == expected


def test_v3_authnopriv_sha(agent):
    """SNMPv3 USM authNoPriv SHA; snmpsim selects the recording by context name."""
    from collectors.snmp.client import poll_interfaces

    def v3(key, user=V3_USER):
        return SnmpTarget("127.0.0.1", agent, version="3", user=user, auth_key=key, auth_protocol="SHA",
                          context="vrp_5720", timeout=2, retries=1, deadline=20)

    good = asyncio.run(poll_interfaces(v3(V3_KEY)))
    assert good.ok, good.error_message
    assert len(good.interfaces) == 65 and good.sys_uptime == 28156805
    bad = asyncio.run(poll_interfaces(v3("not-the-key")))
    assert (bad.ok, bad.error) == (False, "auth")
    nouser = asyncio.run(poll_interfaces(v3(V3_KEY, user="intruder")))
    assert (nouser.ok, nouser.error) == (False, "auth")
