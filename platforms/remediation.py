"""Remediation and rollback between two configs of one platform, by hier_config.

hier_config (a well-kept library made for exactly this) knows how each platform negates a line (`undo`, `no`)
and which lines replace each other; it gets each config in its canonical form (platforms.config: no
separators or comments, global lines at column 0, a section's lines one space in) and gives back config-file
lines in the same form. Banners are compared here instead (hier_config reads only multi-line IOS banners):
a changed banner is written whole, a removed one negated. `remediation(p, running, intended)` applied to
running gives intended; `rollback(p, running, intended)` applied to intended gives running.
"""

from __future__ import annotations

from hier_config import HConfig, WorkflowRemediation, get_hconfig


def _hconfig(platform, tree) -> HConfig:
    return get_hconfig(platform.hier_config, "\n".join(line for line in tree.lines() if not tree.is_banner(line)))


def _banners(platform, tree) -> dict[str, str]:
    """Each banner of the config by its kind ("banner login", "header login")."""
    return {platform.grammar.banner_start.match(line.strip()).group("kind"): line for line in tree.lines()
            if tree.is_banner(line)}


def _lines(platform, start: str, goal: str, attribute: str) -> list[str]:
    start_tree, goal_tree = platform.parse(start), platform.parse(goal)
    changes = WorkflowRemediation(_hconfig(platform, start_tree), _hconfig(platform, goal_tree))
    lines = _file_lines(getattr(changes, attribute))
    have, want = (_banners(platform, start_tree), _banners(platform, goal_tree)) if attribute == "remediation_config" \
        else (_banners(platform, goal_tree), _banners(platform, start_tree))
    lines += [platform.grammar.negation_of(kind) for kind in have if kind not in want]
    lines += [text for kind, text in want.items() if have.get(kind) != text]
    return lines


def _file_lines(config: HConfig) -> list[str]:
    # dump_simple indents two spaces per level; the config files here indent one.
    return [" " * ((len(line) - len(line.lstrip())) // 2) + line.strip() for line in config.dump_simple()]


def remediation(platform, running: str, intended: str) -> list[str]:
    """The lines that turn `running` into `intended`."""
    return _lines(platform, running, intended, "remediation_config")


def rollback(platform, running: str, intended: str) -> list[str]:
    """The lines that turn `intended` back into `running` (the undo of the remediation)."""
    return _lines(platform, running, intended, "rollback_config")
