"""The vendor-neutral ACL model (platforms/acl.py): rules read in both styles, and first-match evaluation."""

import pytest

import platforms
from platforms.acl import ANY, DENY, PERMIT, AclRule, Address, PortSet, RuleSyntax, Traffic, evaluate, read_rule

KEYWORD = RuleSyntax("keyword", frozenset({"logging", "counting"}))
POSITIONAL = RuleSyntax("positional", frozenset({"log", "log-input"}))
NET10 = Address.network("10.0.0.0/8")


def ports(*values):
    return PortSet(tuple((v, v) if isinstance(v, int) else v for v in values))


@pytest.mark.parametrize("syntax, basic, body, expected", [
    (KEYWORD, False, "deny tcp destination-port eq 445", dict(protocol="tcp", destination_ports=ports(445))),
    (KEYWORD, False, "permit ip source 10.0.0.0 0.255.255.255", dict(protocol="ip", source=NET10)),
    (KEYWORD, False, "deny udp source 10.1.1.1 0 destination-port range 137 138 logging",
     dict(protocol="udp", source=Address.network("10.1.1.1/32"), destination_ports=ports((137, 138)))),
    (KEYWORD, False, "deny 6 destination 10.0.0.0 0.255.255.255 destination-port eq microsoft-ds",
     dict(protocol="tcp", destination=NET10, destination_ports=ports(445))),
    (KEYWORD, False, "permit tcp source-port eq 445", dict(protocol="tcp", source_ports=ports(445))),
    (KEYWORD, False, "permit tcp destination-port eq 80 time-range office", dict(protocol="tcp", narrowed=True,
                                                                                  destination_ports=ports(80))),
    (KEYWORD, False, "permit tcp established", dict(protocol="tcp", narrowed=True)),
    (KEYWORD, False, "permit tcp destination-port eq no-such-port", dict(protocol="tcp", narrowed=True)),
    (KEYWORD, True, "permit source 10.0.250.0 0.0.0.255", dict(source=Address.network("10.0.250.0/24"))),
    (KEYWORD, False, "deny icmp", dict(protocol="icmp")),
    (POSITIONAL, False, "deny tcp any host 10.1.1.1 eq 445 log",
     dict(protocol="tcp", destination=Address.network("10.1.1.1/32"), destination_ports=ports(445))),
    (POSITIONAL, False, "permit tcp 10.0.0.0 0.255.255.255 eq 1024 any", dict(protocol="tcp", source=NET10,
                                                                              source_ports=ports(1024))),
    (POSITIONAL, False, "deny tcp any any eq 135 139 445", dict(protocol="tcp",
                                                                destination_ports=ports(135, 139, 445))),
    (POSITIONAL, False, "permit tcp any any neq 445", dict(protocol="tcp", destination_ports=ports((0, 444),
                                                                                                   (446, 65535)))),
    (POSITIONAL, False, "permit udp any any gt 1023", dict(protocol="udp", destination_ports=ports((1024, 65535)))),
    (POSITIONAL, False, "permit udp any any lt 1024", dict(protocol="udp", destination_ports=ports((0, 1023)))),
    (POSITIONAL, False, "permit ip object-group INSIDE any", dict(narrowed=True)),
    (POSITIONAL, False, "permit 17 any any range netbios-ns netbios-dgm", dict(protocol="udp",
                                                                               destination_ports=ports((137, 138)))),
    (POSITIONAL, False, "deny tcp any any eq 445 fragments", dict(protocol="tcp", destination_ports=ports(445),
                                                                  narrowed=True)),
    (POSITIONAL, True, "permit 10.0.0.0 0.255.255.255", dict(source=NET10)),
    (POSITIONAL, True, "deny host 10.1.1.1 log", dict(source=Address.network("10.1.1.1/32"))),
    (POSITIONAL, True, "permit any", dict()),
])
def test_rules_are_read_field_by_field(syntax, basic, body, expected):
    rule = read_rule(body, syntax, basic)
    defaults = dict(protocol="ip", source=ANY, destination=ANY, source_ports=None, destination_ports=None,
                    narrowed=False)
    found = {key: getattr(rule, key) for key in defaults}
    assert found == {**defaults, **expected}
    assert rule.action in (PERMIT, DENY)


@pytest.mark.parametrize("body", ["remark allow the NMS", "description x", ""])
def test_what_is_no_entry_is_skipped(body):
    assert read_rule(body, POSITIONAL, False) is None and read_rule(body, KEYWORD, False) is None


def rule(action, protocol="ip", destination_ports=None, source=ANY, narrowed=False, line=1):
    return AclRule(action, protocol, source, ANY, None, destination_ports, narrowed, line, line, f"rule {line}")


TCP445 = Traffic("tcp", 445, label="TCP 445")


@pytest.mark.parametrize("rules, default, blocked, deciding, partial", [
    ([rule(DENY, "tcp", ports(445))], "permit", True, 1, False),
    ([rule(PERMIT, "tcp", ports((0, 444), (446, 65535))), rule(DENY, "tcp", ports(445), line=2)], "permit", True, 2,
     False),  # neq 445 matches none of it
    ([rule(PERMIT, "tcp", ports((0, 1023))), rule(DENY, "tcp", ports(445), line=2)], "permit", False, 1, False),
    ([rule(PERMIT, "udp"), rule(DENY, "tcp", ports(445), line=2)], "permit", True, 2, False),
    ([rule(PERMIT, "tcp", ports(445), source=NET10), rule(DENY, line=2)], "deny", False, 1, True),
    ([rule(DENY, "tcp", ports(445), source=NET10)], "permit", False, None, False),
    ([rule(DENY, "tcp", ports(445), source=NET10)], "deny", True, None, False),
    ([rule(DENY, narrowed=True), rule(PERMIT, line=2)], "deny", False, 2, False),
    ([rule(DENY, "ip"), rule(PERMIT, "tcp", ports(445), line=2)], "permit", True, 1, False),
    ([], "permit", False, None, False),
])
def test_the_first_rule_that_can_match_decides(rules, default, blocked, deciding, partial):
    verdict = evaluate(rules, TCP445, default)
    assert verdict.blocked is blocked
    assert (verdict.rule.line if verdict.rule else None) == deciding
    assert verdict.partial is partial


def test_wildcards_that_are_no_prefix_are_sets_too():
    odd = Address(0x0A000001, 0x00FF0000)  # 10.x.0.1 for any x
    assert odd.contains(Address.network("10.7.0.1/32")) and not odd.contains(Address.network("10.7.0.2/32"))
    assert odd.overlaps(Address.network("10.7.0.0/24")) and not odd.overlaps(Address.network("11.0.0.0/8"))
    assert ANY.contains(odd) and not odd.contains(ANY) and str(odd) == "10.0.0.1 0.255.0.0"


@pytest.mark.parametrize("platform", ["huawei_vrp", "hp_comware", "cisco_ios", "ruijie_os"])
def test_each_platform_renders_a_block_its_own_reader_reads_back(platform):
    p = platforms.get(platform)
    lines = p.render_egress_block([p.egress.placeholder_interface], "3900" if p.acl_numbers else "ONENET-EGRESS",
                                  [("tcp", 445), ("udp", 137)], ["203.0.113.0/24", "198.51.100.7/32"])
    tree = p.parse("\n".join(lines))
    [acl] = p.read_acls(tree).values()
    assert [r.action for r in acl.rules] == [DENY] * 6 + [PERMIT]
    assert str(acl.rules[0].source) == "203.0.113.0/24" and str(acl.rules[3].destination) == "198.51.100.7"
    [facts] = p.interface_facts(tree)
    assert {d: [a for a, _ in b] for d, b in facts.bindings.items()} == {"inbound": [acl.name],
                                                                         "outbound": [acl.name]}
    assert all(line == line.lstrip() or line.startswith(" ") and not line.startswith("  ") for line in lines)
