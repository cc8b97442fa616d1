"""The egress policy file: the shipped one is valid; a mistake is refused at load time, naming file, line and field."""

import textwrap

import pytest

from egress.services.policy import DEFAULT_POLICY, load_policy
from web.errors import OneNetError

GOOD = textwrap.dedent("""\
    blocked_ports:
      - {protocol: tcp, port: 445}
      - {protocol: udp, port: 137, name: NetBIOS name}
    blocked_prefixes: [203.0.113.0/24]
    enforce_on:
      - {role: egress, interfaces: internet}
      - {role: [aggregation, core], interfaces: uplink}
    egress_devices:
      roles: [egress]
      names: [backup-exit-1]
    approved_next_hops: [192.0.2.1, 198.51.100.0/30]
    """)


def write(tmp_path, text):
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_policy_blocks_smb_and_netbios_on_the_egress_and_county_uplinks():
    policy = load_policy()
    assert policy.path == str(DEFAULT_POLICY)
    assert {(p.protocol, p.port) for p in policy.blocked_ports} >= {("tcp", 135), ("tcp", 139), ("tcp", 445),
                                                                    ("udp", 137), ("udp", 138)}
    assert policy.selectors_for("egress") == ["internet"] and policy.selectors_for("aggregation") == ["uplink"]
    assert policy.selectors_for("access") == [] and policy.is_egress("anything", "egress")


def test_a_policy_file_of_the_operators_own_is_read_whole(tmp_path):
    policy = load_policy(write(tmp_path, GOOD))
    assert [p.label for p in policy.blocked_ports] == ["TCP 445", "UDP 137"]
    assert [str(n) for n in policy.blocked_prefixes] == ["203.0.113.0/24"]
    assert policy.selectors_for("core") == ["uplink"] and policy.is_egress("backup-exit-1", "access")
    assert policy.approves_next_hop("192.0.2.1") and policy.approves_next_hop("198.51.100.2")
    assert not policy.approves_next_hop("198.51.100.4")


@pytest.mark.parametrize("old, new, line, field", [
    ("protocol: udp, port: 137", "protocol: icmp, port: 137", 3, "blocked_ports[1].protocol"),
    ("port: 445}", "port: 70000}", 2, "blocked_ports[0].port"),
    ("port: 445}", "port: '445'}", 2, "blocked_ports[0].port"),
    ("{protocol: tcp, port: 445}", "{protocol: tcp, port: 445, action: deny}", 2, "blocked_ports[0].action"),
    ("{protocol: tcp, port: 445}", "{protocol: udp, port: 137}", 3, "blocked_ports[1]"),
    ("[203.0.113.0/24]", "[203.0.113.1/24]", 4, "blocked_prefixes[0]"),
    ("[203.0.113.0/24]", "[203.0.113.0]", 4, "blocked_prefixes[0]"),
    ("{role: egress, interfaces: internet}", "{role: egres, interfaces: internet}", 6, "enforce_on[0].role"),
    ("interfaces: uplink}", "interfaces: wan}", 7, "enforce_on[1].interfaces"),
    ("[aggregation, core]", "[aggregation, router]", 7, "enforce_on[1].role[1]"),
    ("roles: [egress]", "roles: [exit]", 9, "egress_devices.roles[0]"),
    ("[192.0.2.1, 198.51.100.0/30]", "[192.0.2.300]", 11, "approved_next_hops[0]"),
    ("blocked_prefixes:", "blocked_prefix:", 4, "blocked_prefix"),
    ("enforce_on:\n  - {role: egress, interfaces: internet}\n  - {role: [aggregation, core], interfaces: uplink}\n",
     "enforce_on: everywhere\n", 5, "enforce_on"),
    ("egress_devices:\n  roles: [egress]\n  names: [backup-exit-1]\n", "egress_devices: [egress]\n", 8,
     "egress_devices"),
])
def test_a_mistake_is_refused_naming_file_line_and_field(tmp_path, old, new, line, field):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(OneNetError) as refused:
        load_policy(path)
    assert refused.value.code == "EGRESS_POLICY_INVALID"
    assert any(p.startswith(f"{path}:{line}: {field}: ") for p in refused.value.details["problems"]), \
        refused.value.details["problems"]
    assert f"{path}:{line}: {field}: " in refused.value.message


@pytest.mark.parametrize("text, where", [
    ("blocked_ports: &p\n  - {protocol: tcp, port: 445}\nenforce_on: *p\n", ":3: file: "),  # an alias
    ("blocked_ports: [\n", ":2: file: "),  # not YAML
    ("- just\n- a list\n", ":1: file: "),
    ("enforce_on: []\negress_devices: {roles: [egress]}\n", ":1: blocked_ports: is missing"),
    ("blocked_ports: []\nenforce_on: []\negress_devices: {roles: [egress]}\n", ":1: blocked_ports: lists no port"),
    ("blocked_ports: [{protocol: tcp, port: 445}]\nenforce_on: []\negress_devices: {roles: []}\n",
     ":3: egress_devices: names no role"),
])
def test_a_file_that_is_no_policy_is_refused_too(tmp_path, text, where):
    path = write(tmp_path, text)
    with pytest.raises(OneNetError) as refused:
        load_policy(path)
    assert refused.value.code == "EGRESS_POLICY_INVALID" and f"{path}{where}" in refused.value.message


def test_an_oversized_or_missing_file_is_refused(tmp_path):
    big = write(tmp_path, "# " + "x" * (1024 * 1024) + "\n")
    with pytest.raises(OneNetError, match="larger than"):
        load_policy(big)
    with pytest.raises(OneNetError, match="cannot be read"):
        load_policy(tmp_path / "missing.yaml")


def test_the_start_up_check_reports_a_broken_shipped_policy(monkeypatch, tmp_path):
    from egress import apps
    from egress.services import policy

    assert apps.check_policy() == []
    monkeypatch.setattr(policy, "DEFAULT_POLICY", write(tmp_path, GOOD.replace("port: 445", "port: 0")))
    policy.default_policy.cache_clear()
    try:
        [error] = apps.check_policy()
        assert error.id == "egress.E001" and ":2: blocked_ports[0].port:" in error.msg
    finally:
        policy.default_policy.cache_clear()
