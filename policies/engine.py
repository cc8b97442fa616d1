"""The compliance engine: one config, its platform's grammar, every rule → findings with evidence and remediation.

The config is parsed by its platform (platforms.get(slug).parse: sections, separators, banners, `undo`/`no`);
each rule's checks for that platform look at the lines they name, and every failure points at the config
lines (with their line numbers). The remediation of a failing rule is what hier_config computes between the
config and the same config with the rule's fix applied (forbidden lines removed, the `fix` lines added where
they belong), so it uses the platform's own negation and replacement semantics. The egress.* rules are
decided by the unified egress policy (egress.services).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import platforms
from platforms.config import LINE, ConfigTree, Node
from platforms.remediation import remediation
from policies.choices import Status
from policies.rules import Check, Limit, Rule, RuleSet, rule_set

PARSE_RULE = "config.parse"  # the one finding of a config that cannot be read


@dataclass
class Finding:
    rule: str
    status: str
    severity: str
    title: str = ""
    message: str = ""
    evidence: list[tuple[int, str]] = field(default_factory=list)  # (line number, line)
    remediation: list[str] = field(default_factory=list)
    mlps: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {**asdict(self), "evidence": [list(e) for e in self.evidence], "mlps": list(self.mlps)}


@dataclass
class _Outcome:
    """What the checks of one rule found, and how to fix it."""

    problems: list[str] = field(default_factory=list)
    evidence: list[tuple[int, str]] = field(default_factory=list)
    removals: list[tuple[Node | None, Node]] = field(default_factory=list)  # (section or top level, node)
    additions: list[tuple[str | None, str]] = field(default_factory=list)  # (section opener or top level, line)

    def fail(self, problem: str, node: Node | None = None, remove: bool = False, section: Node | None = None):
        self.problems.append(problem)
        if node is not None and (node.number, node.text) not in self.evidence:
            self.evidence.append((node.number, node.text))
        if remove and node is not None:
            self.removals.append((section, node))


def check_config(slug: str, text: str, role: str | None = None, context=None,
                 rules: RuleSet | None = None) -> list[Finding]:
    """Every rule on one config. PLATFORM_UNKNOWN for an unknown slug; an unreadable config is one error finding.

    `context` is what the inventory knows of the device (egress.services.DeviceContext), or None offline."""
    platform = platforms.get(slug)
    rules = rules or rule_set()
    try:
        tree = platform.parse(text)
        if not tree.lines():
            raise ValueError("it holds no configuration line")
    except Exception as error:  # noqa: BLE001 - a config that cannot be read fails alone, as one finding
        return [Finding(PARSE_RULE, Status.ERROR, "high", "The config can be read",
                        f"the config could not be read as {platform.name}: {error}")]
    delegated = {}
    if any(rule.delegated == "egress" for rule in rules.rules):
        from egress.services import device_findings

        delegated = {f.rule: f for f in device_findings(slug, text, role or "", context)}
    findings = []
    for rule in rules.rules:
        if rule.delegated:
            findings.append(_from_delegate(rule, delegated.get(rule.id)))
        elif not rule.applies_to(role) or slug not in rule.checks:
            findings.append(Finding(rule.id, Status.NOT_APPLICABLE, rule.severity, rule.shown_title, mlps=rule.mlps))
        else:
            findings.append(_evaluate(rule, rule.checks[slug], platform, tree, text, rules.parameters))
    return findings


def _from_delegate(rule: Rule, found) -> Finding:
    if found is None:
        return Finding(rule.id, Status.NOT_APPLICABLE, rule.severity, rule.shown_title, mlps=rule.mlps)
    return Finding(rule.id, found.status, rule.severity, rule.shown_title, found.message, list(found.evidence),
                   list(found.remediation), rule.mlps)


def _evaluate(rule: Rule, checks: tuple[Check, ...], platform, tree: ConfigTree, text: str,
              parameters: dict[str, str]) -> Finding:
    outcome = _Outcome()
    for check in checks:
        _run_check(check, tree, outcome, parameters)
    if not outcome.problems:
        return Finding(rule.id, Status.PASS, rule.severity, rule.shown_title, mlps=rule.mlps)
    fixed = _fixed(tree, outcome)
    lines = remediation(platform, text, fixed.render()) if (outcome.removals or outcome.additions) else []
    return Finding(rule.id, Status.FAIL, rule.severity, rule.shown_title, "; ".join(outcome.problems),
                   sorted(outcome.evidence), lines, rule.mlps)


def _run_check(check: Check, tree: ConfigTree, outcome: _Outcome, parameters: dict[str, str]):
    fix = [line.format(**parameters) for line in check.fix]
    if check.within is not None:
        places = [(node, node.children) for node in tree.nodes if node.is_section and check.within.search(node.text)]
        if not places:
            outcome.fail(f"no section matches {check.within.pattern!r}", _last_line(tree))
            if check.create:  # the section and its lines are what the fix adds
                outcome.additions += [(check.create, line) for line in fix]
            return
    else:
        places = [(None, tree.top_lines())]
        if check.everywhere:
            places += [(node, node.children) for node in tree.nodes if node.is_section]
    for section, nodes in places:
        lines = [node for node in nodes if node.kind == LINE]
        where = f" in {section.text!r}" if section is not None else ""
        # Where a missing line is pointed at: its section, or the last top-level line (it would go after it).
        anchor = section or _last_line(tree)
        opener = section.text if section is not None else None
        for pattern in check.forbid:
            for node in lines:
                if pattern.search(node.text):
                    outcome.fail(f"{node.text!r}{where} is not allowed", node, remove=True, section=section)
        for pattern in check.require:
            if not any(pattern.search(node.text) for node in lines):
                outcome.fail(f"nothing{where} matches {pattern.pattern!r}", anchor)
                outcome.additions += [(opener, line) for line in fix]
        if check.max_minutes and not _within_minutes(check.max_minutes, lines, section, anchor, where, outcome):
            outcome.additions += [(opener, line) for line in fix]
        if check.at_least and not _at_least(check.at_least, lines, section, anchor, where, outcome):
            outcome.additions += [(opener, line) for line in fix]


def _within_minutes(limit: Limit, lines: list[Node], section: Node | None, anchor: Node, where: str,
                    outcome: _Outcome) -> bool:
    found = [(node, match) for node in lines if (match := limit.match.search(node.text))]
    if not found:
        if limit.missing is not None and 0 < limit.missing <= limit.bound:
            return True
        outcome.fail(f"no line{where} matches {limit.match.pattern!r}", anchor)
        return False
    ok = True
    for node, match in found:
        minutes = float(match.group(1)) + (float(match.group(2)) / 60 if match.lastindex and match.lastindex >= 2
                                           and match.group(2) else 0.0)
        if minutes == 0 or minutes > limit.bound:  # 0 means never
            shown = "never" if minutes == 0 else f"{minutes:g} minutes"
            outcome.fail(f"{node.text!r}{where}: {shown}, more than {limit.bound:g} minutes", node, remove=True,
                         section=section)
            ok = False
    return ok


def _at_least(limit: Limit, lines: list[Node], section: Node | None, anchor: Node, where: str,
              outcome: _Outcome) -> bool:
    found = [(node, match) for node in lines if (match := limit.match.search(node.text))]
    if not found:
        outcome.fail(f"no line{where} matches {limit.match.pattern!r}", anchor)
        return False
    ok = True
    for node, match in found:
        if float(match.group(1)) < limit.bound:
            outcome.fail(f"{node.text!r}{where}: less than {limit.bound:g}", node, remove=True, section=section)
            ok = False
    return ok


def _fixed(tree: ConfigTree, outcome: _Outcome) -> ConfigTree:
    """The config with the rule's forbidden lines removed and its fix lines added where they belong."""
    fixed = tree.copy()
    by_text = {node.text: node for node in fixed.nodes if node.is_section}
    for section, node in outcome.removals:
        target = fixed.nodes if section is None else by_text[section.text].children
        target[:] = [n for n in target if not (n.kind == node.kind and n.text == node.text)]
    for opener, line in dict.fromkeys(outcome.additions):
        fixed.apply(line, None if opener is None else fixed.enter(opener))
    return fixed


def _last_line(tree: ConfigTree) -> Node:
    """Where a missing top-level line is pointed at: the last top-level line, or the last section's opener."""
    return next(node for node in reversed(tree.nodes) if node.kind != "decoration")
