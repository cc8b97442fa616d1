"""Third-party configs (../shared/corpus, see its README) parse without loss on their platform's grammar.

Parsing and writing back gives the input modulo whitespace, and what the parse understood holds: each
interface section keeps the lines indented under it, secrets in them are masked, RANCID's and Oxidized's
header lines are decoration, not configuration."""

import pytest

import platforms
from tests.conftest import corpus_path

SENTRIFLOW = "sentriflow/packages/core/test/fixtures"
CONFIGS = [
    ("huawei_vrp", f"{SENTRIFLOW}/huawei-vrp/basic-config.txt"),
    ("huawei_vrp", f"{SENTRIFLOW}/huawei-vrp/interface-config.txt"),
    ("huawei_vrp", f"{SENTRIFLOW}/huawei-vrp/security-config.txt"),
    ("cisco_ios", f"{SENTRIFLOW}/cisco-ios/comprehensive-router.txt"),
    ("cisco_ios", f"{SENTRIFLOW}/cisco-ios/security-hardening.txt"),
    ("hp_comware", "oxidized/spec/model/data/h3c#5130-48G_7.1.070#output.txt"),
    ("cisco_ios", "faddr/tests/fixtures/rancid/group_01_3rows/configs/cisco-ios-15-7206"),
]


def indented_blocks(text: str, opener_pattern) -> dict[str, list[str]]:
    """Each top-level line the grammar opens a section with, and the indented lines right under it."""
    blocks, current = {}, None
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[:1] not in (" ", "\t"):
            current = line.strip() if opener_pattern.match(line.strip()) else None
            if current is not None:
                blocks.setdefault(current, [])
        elif current is not None:
            blocks[current].append(line.strip())
    return blocks


@pytest.mark.parametrize("slug, relative", CONFIGS, ids=[c[1].rsplit("/", 1)[1] for c in CONFIGS])
def test_a_real_config_parses_without_loss(slug, relative):
    text = corpus_path(*relative.split("/")).read_text(errors="replace")
    platform = platforms.get(slug)
    tree = platform.parse(text)
    assert tree.text().split() == text.split()
    blocks = indented_blocks(text, platform.grammar.section_openers)
    assert blocks, "the file has sections"
    for opener, lines in blocks.items():
        section = tree.section(opener)
        assert section is not None and [c.text for c in section.children] == lines, opener  # " #" kept too
    assert not any(line.startswith(("!RANCID", "!Chassis", "# HPE Comware", "Building configuration"))
                   for line in tree.lines())


@pytest.mark.parametrize("slug, relative, secret", [
    ("huawei_vrp", f"{SENTRIFLOW}/huawei-vrp/security-config.txt", "SecureP@ssw0rd!"),
    ("cisco_ios", f"{SENTRIFLOW}/cisco-ios/security-hardening.txt", "AuthPassword123"),
    ("cisco_ios", "faddr/tests/fixtures/rancid/group_01_3rows/configs/cisco-ios-15-7206",
     "$1$2PVi$G3FmVHNhRBegJrfGfEZtV/"),
])
def test_secrets_in_real_configs_are_masked(slug, relative, secret):
    text = corpus_path(*relative.split("/")).read_text(errors="replace")
    assert secret in text
    assert secret not in platforms.get(slug).mask_secrets(text)


@pytest.mark.parametrize("slug, relative", CONFIGS, ids=[c[1].rsplit("/", 1)[1] for c in CONFIGS])
def test_every_compliance_finding_on_a_real_config_points_to_its_line(slug, relative):
    from policies.engine import check_config

    text = corpus_path(*relative.split("/")).read_text(errors="replace")
    lines = text.splitlines()
    findings = [f for f in check_config(slug, text, "access") if f.status == "fail"]
    assert findings, "real configs miss some of the baseline"
    for finding in findings:
        assert finding.evidence, finding.rule
        for number, line in finding.evidence:
            assert lines[number - 1].strip() == line.split("\n")[0].strip(), (finding.rule, number, line)
