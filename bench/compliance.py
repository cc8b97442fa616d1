"""Compliance benchmark: OneNet's engine on the city lab's configs vs hier_config parsing them alone.

    python -m bench.compliance [--quick] [--json] [--devices N] [--seed 1]

Generates the city-scale lab (``lab.topology.generate("city", seed)``, about 3,000 active devices) and each
active device's running config (``lab.ssh.configs.generate_config``: what a backup stores), then times, one
process each, on the same configs:

- ours: ``policies.engine.check_config`` on every config: the platform's parse, every rule of the baseline and
  MLPS rule set (the egress.* rules through ``egress.services`` when it is there; offline, with no inventory
  context, as ``manage.py compliance check``), evidence, and the hier_config remediation of every failure;
- peer: ``hier_config.get_hconfig`` with each platform's ``platforms.get(slug).hier_config``, parsing only. It
  cannot read the one-line IOS banners (``banner login ^C…^C``: "we are still in a banner"), so the peer gets
  the configs without them, as OneNet's own remediation gives them to it (prepared before the clock starts).

Figures are configs per second (higher is better); ``ratio`` is ours / peer; target ours >= 200 configs/s on
the 2-core machine. ``--quick`` takes a few hundred configs spread over the city (every tier and vendor).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import time
from collections import Counter

from bench.report import print_report

TARGET = 200.0  # configs per second
QUICK_DEVICES = 300
ONE_LINE_BANNER = re.compile(r"^(banner|header) \S+ (\^C|%|\").*(\^C|%|\")\s*$")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def lab_configs(seed: int, count: int | None) -> list[tuple[str, str, str, str]]:
    """(name, platform, role, config) of the city lab's active devices, `count` of them spread evenly (or all)."""
    from lab.ssh.configs import LabIndex, generate_config
    from lab.topology import generate

    topology = generate("city", seed)
    index = LabIndex.build(topology)
    active = [d for d in topology.devices if d.status == "active"]
    if count and count < len(active):
        step = len(active) / count
        active = [active[int(i * step)] for i in range(count)]
    return [(d.name, d.platform, d.role, generate_config(d, index)) for d in active]


def rule_set_in_use():
    """The full rule set when the egress rules can run, else the baseline's own rules (and why)."""
    from policies.rules import RuleSet, rule_set

    rules = rule_set()
    try:
        from egress.services import device_findings  # noqa: F401 - the delegated rules need it
    except ImportError as error:
        return RuleSet(tuple(r for r in rules.rules if not r.delegated), rules.parameters), f"skipped: {error}"
    return rules, "checked"


def run_ours(configs, rules) -> dict:
    from policies.engine import check_config

    for _name, slug, role, text in configs[:5]:  # warm-up: imports and compiled patterns, outside the clock
        check_config(slug, text, role, rules=rules)
    statuses, failing = Counter(), Counter()
    cpu, started = _cpu(), time.perf_counter()
    for _name, slug, role, text in configs:
        for finding in check_config(slug, text, role, rules=rules):
            statuses[finding.status] += 1
            if finding.status in ("fail", "error"):
                failing[finding.rule] += 1
    wall = time.perf_counter() - started
    return {"wall_s": round(wall, 2), "cpu_s": round(_cpu() - cpu, 2), "configs_per_s": round(len(configs) / wall, 1),
            "results": dict(statuses), "failing": dict(failing)}


def run_peer(configs) -> dict:
    from hier_config import get_hconfig

    import platforms

    prepared = [(platforms.get(slug).hier_config, "\n".join(line for line in text.splitlines()
                                                            if not ONE_LINE_BANNER.match(line)))
                for _name, slug, _role, text in configs]
    for hier_platform, text in prepared[:5]:
        get_hconfig(hier_platform, text)
    cpu, started, failed = _cpu(), time.perf_counter(), 0
    for hier_platform, text in prepared:
        try:
            get_hconfig(hier_platform, text)
        except ValueError:
            failed += 1
    wall = time.perf_counter() - started
    return {"wall_s": round(wall, 2), "cpu_s": round(_cpu() - cpu, 2), "configs_per_s": round(len(prepared) / wall, 1),
            "failed": failed}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compliance", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DEVICES} configs instead of the whole city")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--devices", type=int, default=None, help="how many configs (default: every active device)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
    import django

    django.setup()  # the rules and platforms load with the apps; nothing here touches the database
    from lab.ssh.configs import expected_faults
    from lab.topology import generate

    configs = lab_configs(args.seed, args.devices or (QUICK_DEVICES if args.quick else None))
    rules, egress = rule_set_in_use()
    ours = run_ours(configs, rules)
    peer = run_peer(configs)
    planted = Counter()  # the lab's planted faults among these configs, by the rule each should trip
    names = {name for name, *_ in configs}
    checked_rules = {rule.id for rule in rules.rules}
    for fault in expected_faults(generate("city", args.seed)):
        if fault["device"] in names and fault["rule"] in checked_rules:
            planted[fault["rule"]] += 1
    report = {
        "metric": "compliance configs/s", "ours": ours["configs_per_s"], "peer": peer["configs_per_s"],
        "ratio": round(ours["configs_per_s"] / peer["configs_per_s"], 2) if peer["configs_per_s"] else None,
        "target": TARGET, "meets": ours["configs_per_s"] >= TARGET, "devices": len(configs),
        "platforms": dict(Counter(slug for _n, slug, _r, _t in configs)), "rules": len(rules.rules),
        "egress_rules": egress, "config_lines": sum(text.count("\n") for *_, text in configs),
        "ours_wall_s": ours["wall_s"], "ours_cpu_s": ours["cpu_s"], "peer_wall_s": peer["wall_s"],
        "peer_cpu_s": peer["cpu_s"], "peer_failed": peer["failed"], "results": ours["results"],
        "failing": ours["failing"], "planted_faults": dict(planted),
        "peer_note": "hier_config get_hconfig only (parse), one-line IOS banners removed beforehand",
    }
    print_report(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
