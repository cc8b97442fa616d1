"""The compliance engine on configs: the lab's planted faults exactly, evidence with line numbers, remediation
that makes a rule pass, bad rule files refused at load with file, line and field."""

from pathlib import Path

import pytest

import platforms
from lab.ssh.configs import LabIndex, expected_faults, generate_config
from lab.topology import generate
from policies.engine import PARSE_RULE, check_config
from policies.rules import load_rules
from web.errors import OneNetError

FIXTURES = Path(__file__).resolve().parents[1] / "platforms" / "fixtures"


def failing(findings) -> set[str]:
    return {f.rule for f in findings if f.status in ("fail", "error")}


@pytest.mark.parametrize("scale", ["demo", "city"])
def test_the_findings_on_the_lab_configs_are_exactly_the_planted_faults(scale):
    topology = generate(scale, 1)
    index = LabIndex.build(topology)
    expected = {(f["device"], f["rule"]) for f in expected_faults(topology)}
    found = set()
    for device in topology.devices:
        for rule in failing(check_config(device.platform, generate_config(device, index), device.role)):
            found.add((device.name, rule))
    assert found - expected == set(), "false positives"
    assert expected - found == set(), "planted faults not found"


def test_evidence_names_the_config_lines_with_their_numbers():
    text = (FIXTURES / "huawei_vrp" / "running.conf").read_text()
    findings = {f.rule: f for f in check_config("huawei_vrp", text, "aggregation")}
    lines = text.splitlines()
    ssh = findings["mgmt.ssh-only"]
    assert ssh.status == "fail" and (23, "protocol inbound all") in ssh.evidence
    timeout = findings["mgmt.idle-timeout"]
    assert timeout.evidence == [(24, "idle-timeout 30 0")]
    community = findings["snmp.no-default-community"]
    assert community.evidence == [(7, "snmp-agent community read public")]
    for finding in findings.values():
        for number, line in finding.evidence:
            assert lines[number - 1].strip() == line, finding.rule  # every line number points at its line


@pytest.mark.parametrize("slug", ["huawei_vrp", "hp_comware", "cisco_ios", "ruijie_os"])
def test_remediation_applied_makes_each_failing_rule_pass(slug):
    platform = platforms.get(slug)
    text = (FIXTURES / slug / "running.conf").read_text()
    before = check_config(slug, text, "access")
    for finding in before:
        if finding.status != "fail" or not finding.remediation:
            continue
        fixed = platform.parse(text).apply_lines(finding.remediation).render()
        after = {f.rule: f for f in check_config(slug, fixed, "access")}
        assert after[finding.rule].status == "pass", (finding.rule, finding.remediation, after[finding.rule].message)


def test_the_lab_s_planted_faults_are_fixed_by_their_remediation():
    topology = generate("demo", 1)
    index = LabIndex.build(topology)
    for fault in expected_faults(topology):
        device = next(d for d in topology.devices if d.name == fault["device"])
        text = generate_config(device, index)
        finding = next(f for f in check_config(device.platform, text, device.role) if f.rule == fault["rule"])
        if fault["rule"] == "aaa.no-cleartext-passwords":
            assert finding.remediation  # the cleartext line removed: the account gets a new hashed password by hand
            continue
        fixed = platforms.get(device.platform).parse(text).apply_lines(finding.remediation).render()
        again = next(f for f in check_config(device.platform, fixed, device.role) if f.rule == fault["rule"])
        assert again.status == "pass", (fault, finding.remediation)


def test_a_config_that_cannot_be_read_is_one_error_finding():
    findings = check_config("cisco_ios", "\n!\n! nothing here\nend\n", "access")
    assert [(f.rule, f.status) for f in findings] == [(PARSE_RULE, "error")]


def test_an_unknown_platform_is_a_coded_error():
    with pytest.raises(OneNetError, match="PLATFORM_UNKNOWN"):
        check_config("junos", "set system host-name r1\n")


BAD_RULES = [
    ("rules:\n  - id: Bad Id\n    title: t\n    severity: high\n    checks: {cisco_ios: [{require: x}]}\n",
     2, "field 'id'"),
    ("rules:\n  - id: a.b\n    title: t\n    severity: urgent\n    checks: {cisco_ios: [{require: x}]}\n",
     2, "field 'severity'"),
    ("rules:\n  - id: a.b\n    title: t\n    severity: low\n    checks: {junos: [{require: x}]}\n",
     2, "field 'checks.junos'"),
    ("rules:\n  - id: a.b\n    title: t\n    severity: low\n    checks:\n      cisco_ios:\n"
     "        - require: '(unclosed'\n", 7, "require[0]"),
    ("rules:\n  - id: a.b\n    title: t\n    severity: low\n    checks:\n      cisco_ios:\n        - fix: [x]\n",
     7, "checks nothing"),
    ("rules:\n  - id: a.b\n    title: t\n    severity: low\n    checks:\n      cisco_ios:\n        - requires: x\n",
     7, "unknown key(s) requires"),
    ("rules:\n  - &r {id: a.b, title: t, severity: low, check: egress}\n  - *r\n", 3, "aliases"),
    ("rules:\n  - id: a.b\n    title: t\n    severity: low\n    check: dns\n", 2, "field 'check'"),
]


@pytest.mark.parametrize("text, line, field", BAD_RULES, ids=[b[2] for b in BAD_RULES])
def test_a_rule_file_with_a_mistake_is_refused_naming_file_line_and_field(tmp_path, text, line, field):
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(OneNetError) as refused:
        load_rules(tmp_path)
    assert refused.value.code == "RULES_INVALID"
    assert f"bad.yaml:{line}:" in str(refused.value) and field in str(refused.value)


def test_the_shipped_rules_carry_design_s_ids_and_mlps_clauses():
    rules = {rule.id: rule for rule in load_rules().rules}
    design = {"mgmt.ssh-only", "mgmt.idle-timeout", "mgmt.login-banner", "aaa.no-cleartext-passwords",
              "snmp.no-default-community", "snmp.no-unrestricted-write", "logging.remote-syslog", "ntp.configured",
              "egress.smb-blocked", "egress.no-rogue-default-route", "egress.no-rogue-nat"}
    mlps = {"mgmt.acl-restricted", "aaa.login-failure-lockout", "aaa.password-complexity", "mgmt.no-http"}
    assert design | mlps <= set(rules)
    assert all(rules[rule].mlps for rule in (design | mlps) - {"mgmt.login-banner"})
    for rule in rules.values():
        assert rule.delegated or set(rule.checks) == {p.slug for p in platforms.all_platforms()}, rule.id
