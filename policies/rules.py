"""Compliance rules as data: policies/rules/*.yaml, loaded and checked once, at start-up.

A rule has DESIGN's stable id, a title, a severity, the MLPS 2.0 (GB/T 22239-2019, level 3) clauses it serves,
optionally the device roles it applies to, and per platform a list of checks; or `check: egress` for the rules
the unified egress policy decides (egress.*). A check looks at the top-level lines, at the lines of every
section whose opener matches `in`, or everywhere:

    - in: '^user-interface vty'        # optional: the sections to look in (each must hold what follows)
      require: ['^protocol inbound ssh$'] # a line matching each pattern must be there
      forbid: ['^protocol inbound (all|telnet)']  # no line may match
      max_minutes: {match: '^idle-timeout (\\d+)(?: (\\d+))?', max: 10, missing: 10}  # minutes (0 = never)
      at_least: {match: '^security passwords min-length (\\d+)', min: 10}
      fix: ['protocol inbound ssh']       # lines that make it pass (forbidden lines are removed anyway)
      create: 'user-interface vty 0 4'   # with `in`: the section the fix creates when none matches

A mistake in a file stops start-up with the file, line and field (RULES_INVALID).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from policies.choices import SEVERITY_RANK
from web.errors import OneNetError

RULES_DIR = Path(__file__).resolve().parent / "rules"
CHECK_KEYS = {"in", "create", "require", "forbid", "max_minutes", "at_least", "fix", "everywhere"}
RULE_KEYS = {"id", "title", "title_zh", "severity", "mlps", "roles", "checks", "check"}
RULE_ID = re.compile(r"^[a-z]+(\.[a-z0-9-]+)+$")
LINE = "__line__"


@dataclass(frozen=True)
class Limit:
    match: re.Pattern
    bound: float  # max minutes, or the minimum value
    missing: float | None = None  # the device's default when the line is absent; None: absent fails


@dataclass(frozen=True)
class Check:
    within: re.Pattern | None = None
    create: str | None = None
    everywhere: bool = False
    require: tuple[re.Pattern, ...] = ()
    forbid: tuple[re.Pattern, ...] = ()
    max_minutes: Limit | None = None
    at_least: Limit | None = None
    fix: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    title_zh: str
    severity: str
    mlps: tuple[str, ...] = ()
    roles: frozenset[str] | None = None  # None: every role
    checks: dict[str, tuple[Check, ...]] = field(default_factory=dict)  # platform slug → checks
    delegated: str | None = None  # "egress": the egress policy decides

    def applies_to(self, role: str | None) -> bool:
        return self.roles is None or role is None or role in self.roles

    @property
    def shown_title(self) -> str:
        """The title in the console's language (the console is zh-Hans first)."""
        from django.utils.translation import get_language

        return self.title_zh if (get_language() or "").startswith("zh") and self.title_zh else self.title


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    parameters: dict[str, str]

    def get(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)


class _Loader(yaml.SafeLoader):
    """Safe YAML that records each mapping's line and refuses aliases (a rule file needs none)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not accepted in a rule file",
                                              self.peek_event().start_mark)
        return super().compose_node(parent, index)


def _mapping(loader, node):
    mapping = yaml.SafeLoader.construct_mapping(loader, node)
    mapping[LINE] = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class _Reader:
    """Turns one file's document into rules, collecting every mistake with its line and field."""

    def __init__(self, path: Path, slugs: set[str]):
        self.path, self.slugs, self.errors = path, slugs, []

    def fail(self, line: int, where: str, message: str):
        self.errors.append(f"{self.path}:{line}: {where}: {message}")

    def pattern(self, line, where, value) -> re.Pattern | None:
        if not isinstance(value, str) or not value:
            self.fail(line, where, "expected a regular expression (text)")
            return None
        try:
            return re.compile(value)
        except re.error as error:
            self.fail(line, where, f"not a valid regular expression ({error})")
            return None

    def patterns(self, line, where, value) -> tuple[re.Pattern, ...]:
        values = value if isinstance(value, list) else [value]
        return tuple(p for i, v in enumerate(values) if (p := self.pattern(line, f"{where}[{i}]", v)))

    def limit(self, line, where, value, bound_key: str, has_missing: bool) -> Limit | None:
        if not isinstance(value, dict) or "match" not in value or bound_key not in value:
            self.fail(line, where, f"expected a mapping with 'match' and '{bound_key}'")
            return None
        unknown = set(value) - {"match", bound_key, "missing", LINE}
        if unknown or ("missing" in value and not has_missing):
            self.fail(line, where, f"unknown key(s) {', '.join(sorted(map(str, unknown or {'missing'})))}")
        match = self.pattern(line, f"{where}.match", value["match"])
        numbers = [value[bound_key]] + ([value["missing"]] if value.get("missing") is not None else [])
        if any(isinstance(n, bool) or not isinstance(n, int | float) for n in numbers):
            self.fail(line, where, f"'{bound_key}' and 'missing' must be numbers")
            return None
        if match is not None and match.groups < 1:
            self.fail(line, f"{where}.match", "needs a group that captures the number")
        return Limit(match, float(value[bound_key]), None if value.get("missing") is None else float(value["missing"]))

    def check(self, line, where, value) -> Check | None:
        if not isinstance(value, dict):
            self.fail(line, where, "expected a mapping (in, require, forbid, max_minutes, at_least, fix)")
            return None
        line = value.get(LINE, line)
        unknown = set(value) - CHECK_KEYS - {LINE}
        if unknown:
            self.fail(line, where, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; expected "
                                   f"{', '.join(sorted(CHECK_KEYS))}")
        fix = value.get("fix", [])
        if not isinstance(fix, list) or not all(isinstance(f, str) for f in fix):
            self.fail(line, f"{where}.fix", "expected a list of config lines")
            fix = []
        check = Check(
            within=self.pattern(line, f"{where}.in", value["in"]) if "in" in value else None,
            create=str(value["create"]) if value.get("create") else None,
            everywhere=bool(value.get("everywhere", False)),
            require=self.patterns(line, f"{where}.require", value["require"]) if "require" in value else (),
            forbid=self.patterns(line, f"{where}.forbid", value["forbid"]) if "forbid" in value else (),
            max_minutes=self.limit(line, f"{where}.max_minutes", value["max_minutes"], "max", True)
            if "max_minutes" in value else None,
            at_least=self.limit(line, f"{where}.at_least", value["at_least"], "min", False)
            if "at_least" in value else None,
            fix=tuple(fix))
        if not (check.require or check.forbid or check.max_minutes or check.at_least):
            self.fail(line, where, "checks nothing: give require, forbid, max_minutes or at_least")
        return check

    def rule(self, index: int, value) -> Rule | None:
        if not isinstance(value, dict):
            self.fail(0, f"rules[{index}]", "expected a mapping")
            return None
        line, rule_id = value.get(LINE, 0), value.get("id")
        where = f"rules[{index}]" + (f" ({rule_id})" if isinstance(rule_id, str) else "")
        unknown = set(value) - RULE_KEYS - {LINE}
        if unknown:
            self.fail(line, where, f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
            self.fail(line, f"{where} field 'id'", "expected a rule id such as mgmt.ssh-only")
        for key in ("title", "title_zh"):
            if not isinstance(value.get(key), str) or not value[key].strip():
                self.fail(line, f"{where} field '{key}'", "is required (English and Chinese)")
        if value.get("severity") not in SEVERITY_RANK:
            self.fail(line, f"{where} field 'severity'", f"expected one of {', '.join(SEVERITY_RANK)}")
        mlps = value.get("mlps", [])
        mlps = [mlps] if isinstance(mlps, str) else mlps
        if not isinstance(mlps, list) or not all(isinstance(m, str) for m in mlps):
            self.fail(line, f"{where} field 'mlps'", "expected a clause (text) or a list of them")
            mlps = []
        roles = value.get("roles")
        if roles is not None and (not isinstance(roles, list) or not all(isinstance(r, str) for r in roles)):
            self.fail(line, f"{where} field 'roles'", "expected a list of device roles")
            roles = None
        delegated = value.get("check")
        checks: dict[str, tuple[Check, ...]] = {}
        if delegated is not None:
            if delegated != "egress":
                self.fail(line, f"{where} field 'check'", "the only delegated check is 'egress'")
        elif not isinstance(value.get("checks"), dict):
            self.fail(line, f"{where} field 'checks'", "expected a mapping of platform slug to a list of checks")
        else:
            for slug, items in value["checks"].items():
                if slug == LINE:
                    continue
                if slug not in self.slugs:
                    self.fail(line, f"{where} field 'checks.{slug}'", f"unknown platform; expected one of "
                                                                     f"{', '.join(sorted(self.slugs))}")
                    continue
                if not isinstance(items, list) or not items:
                    self.fail(line, f"{where} field 'checks.{slug}'", "expected a list of checks")
                    continue
                checks[slug] = tuple(c for i, item in enumerate(items)
                                     if (c := self.check(line, f"{where} field 'checks.{slug}[{i}]'", item)))
        return Rule(rule_id if isinstance(rule_id, str) else "", str(value.get("title", "")),
                    str(value.get("title_zh", "")), str(value.get("severity", "")), tuple(mlps),
                    None if roles is None else frozenset(roles), checks, delegated)


def read_rule_file(path: Path, slugs: set[str]) -> tuple[list[Rule], dict[str, str]]:
    reader = _Reader(path, slugs)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader
    except (OSError, UnicodeDecodeError) as error:
        raise OneNetError("RULES_INVALID", f"{path}: cannot read the rule file ({error}).") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise OneNetError("RULES_INVALID", f"{path}:{mark.line + 1 if mark else 0}: not valid YAML "
                                           f"({getattr(error, 'problem', None) or error}).") from None
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise OneNetError("RULES_INVALID", f"{path}:1: expected a mapping with a 'rules' list.")
    parameters = document.get("parameters") or {}
    if not isinstance(parameters, dict):
        reader.fail(1, "parameters", "expected a mapping of names to values")
        parameters = {}
    rules = [r for i, value in enumerate(document["rules"]) if (r := reader.rule(i, value))]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            reader.fail(0, f"rule {rule.id}", "defined twice")
        seen.add(rule.id)
    if reader.errors:
        error = OneNetError("RULES_INVALID", "the compliance rules were not loaded; fix these problems:\n"
                            + "\n".join(reader.errors))
        error.details = reader.errors
        raise error
    return rules, {str(k): str(v) for k, v in parameters.items() if k != LINE}


def load_rules(directory: Path = RULES_DIR) -> RuleSet:
    """Every rule file of the directory, checked; RULES_INVALID names the file, line and field of each mistake."""
    from platforms import all_platforms

    slugs = {p.slug for p in all_platforms()}
    rules: list[Rule] = []
    parameters: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        file_rules, file_parameters = read_rule_file(path, slugs)
        rules += file_rules
        parameters.update(file_parameters)
    ids = [rule.id for rule in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise OneNetError("RULES_INVALID", f"rule(s) {', '.join(duplicates)} defined in more than one file.")
    return RuleSet(tuple(rules), parameters)


@cache
def rule_set() -> RuleSet:
    return load_rules()
