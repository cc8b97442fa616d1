"""Round trips per platform, hier_config style: running, intended, remediation, rollback.

The fixtures under tests/platforms/fixtures/<slug>/ hold a running and an intended config, and the remediation
and rollback OneNet computes between them (reviewed by hand, then pinned here). Applying the remediation to
the running config the way the device applies lines must give the intended config, and the rollback applied to
the intended config must give the running config back.
"""

from pathlib import Path

import pytest

import platforms
from platforms.remediation import remediation, rollback

FIXTURES = Path(__file__).parent / "fixtures"
SLUGS = ["huawei_vrp", "hp_comware", "cisco_ios", "ruijie_os"]


def fixture(slug: str, name: str) -> str:
    return (FIXTURES / slug / f"{name}.conf").read_text()


def shape(tree) -> list:
    """What a config says, in any order of blocks: each top-level line with its sorted lines."""
    return sorted((node.text, tuple(sorted(c.text for c in node.children or () if c.kind == "line")))
                  for node in tree.nodes if node.kind != "decoration")


@pytest.mark.parametrize("slug", SLUGS)
def test_remediation_and_rollback_are_the_reviewed_lines(slug):
    platform = platforms.get(slug)
    running, intended = fixture(slug, "running"), fixture(slug, "intended")
    assert remediation(platform, running, intended) == fixture(slug, "remediation").splitlines()
    assert rollback(platform, running, intended) == fixture(slug, "rollback").splitlines()


@pytest.mark.parametrize("slug", SLUGS)
def test_remediation_applied_to_running_gives_intended_and_rollback_gives_running_back(slug):
    platform = platforms.get(slug)
    running, intended = platform.parse(fixture(slug, "running")), platform.parse(fixture(slug, "intended"))
    after = running.copy().apply_lines(fixture(slug, "remediation").splitlines())
    assert shape(after) == shape(intended)
    back = intended.copy().apply_lines(fixture(slug, "rollback").splitlines())
    assert shape(back) == shape(running)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_same_config_needs_no_remediation(slug):
    platform = platforms.get(slug)
    assert remediation(platform, fixture(slug, "running"), fixture(slug, "running")) == []


@pytest.mark.parametrize("slug", SLUGS)
def test_parsing_then_writing_loses_nothing(slug):
    for name in ("running", "intended"):
        text = fixture(slug, name)
        assert platforms.get(slug).parse(text).text().split() == text.split()


def test_comware_global_lines_are_not_taken_for_a_section_s_lines():
    tree = platforms.get("hp_comware").parse(fixture("hp_comware", "running"))
    assert " sysname beiling-agg-1" not in [line for line in tree.lines() if line.startswith(" ")]
    assert "sysname beiling-agg-1" in tree.lines()
    vty = tree.section("line vty 0 63")
    assert [c.text for c in vty.children] == ["authentication-mode scheme", "protocol inbound all", "idle-timeout 30 0"]


def test_a_multi_line_banner_is_one_node_and_comes_back_whole():
    text = "hostname r1\n!\nbanner motd ^C\nAuthorised users only.\nAll access is logged.\n^C\n!\nend\n"
    tree = platforms.get("cisco_ios").parse(text)
    banner = [line for line in tree.lines() if line.startswith("banner")]
    assert banner == ["banner motd ^C\nAuthorised users only.\nAll access is logged.\n^C"]
    assert tree.text().split() == text.split()
