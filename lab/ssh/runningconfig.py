"""A hierarchical running config, the state behind the lab's SSH devices.

The config is an ordered list of top-level lines; a line that opens a section (`interface X`,
`acl number 3000`, `ip access-list extended NAME`, `user-interface vty 0 4`, `line vty 0 4`, ...) holds
its child lines.  Applying a line works like the devices do: a section opener enters (or creates) the
section, a plain line replaces the line it supersedes (`description`, `ip address`, `rule 5`, ...) or is
appended, and `undo X` / `no X` removes the lines (or whole section) that start with X.

Styles: `huawei` (VRP), `comware` (H3C) and `cisco` (IOS and Ruijie RGOS); they differ in how the
config is rendered (`#` or `!` separators, header and trailer) and in which words open a section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

STYLES = ("huawei", "comware", "cisco")

_SECTION_OPENERS = {
    "huawei": re.compile(
        r"^(interface |acl (number |name )|user-interface |aaa$|ospf( |$)|bgp |isis( |$)|nat address-group |"
        r"ip vpn-instance |traffic (classifier|behavior|policy) |vlan \d+$|local-user \S+ class|"
        r"security-policy$|rule name |firewall zone )"
    ),
    "comware": re.compile(
        r"^(interface |acl (number |advanced |basic |name )|line (vty|con|class) |user-interface |ospf( |$)|"
        r"bgp |local-user |domain |vlan \d+$|nat address-group |traffic (classifier|behavior) |qos policy )"
    ),
    "cisco": re.compile(
        r"^(interface |ip access-list |ipv6 access-list |line (vty|con|aux) |router |archive$|class-map |"
        r"policy-map |crypto |ip dhcp pool |vlan \d+$|control-plane$)"
    ),
}
# Lines that exist once per section: a new one replaces the old (key = the words that identify it).
_SINGLE_VALUED = re.compile(
    r"^(description|sysname|hostname|ip address(?! \S+ \S+ sub(?:$| ))|idle-timeout|exec-timeout|"
    r"protocol inbound|transport input|authentication-mode|user privilege|shutdown|"
    r"header login|clock timezone|speed|duplex|mtu|nat outbound|ip nat (?:inside|outside)$|"
    r"local-user \S+ password|password|privilege level|user-role|service-type|"
    r"snmp-agent sys-info version|ntp-service source-interface|"
    r"(?:rule|permit|deny) \d+|\d+ (?:permit|deny)|rule \d+)\b"
)


@dataclass
class Node:
    text: str
    children: list[Node] | None = None  # None for a plain line, a list for a section

    def copy(self) -> Node:
        return Node(self.text, None if self.children is None else [child.copy() for child in self.children])


def _key(text: str) -> str | None:
    """The part of a line that a newer line of the same kind replaces, or None if lines accumulate."""
    match = _SINGLE_VALUED.match(text)
    if not match:
        return None
    key = match.group(0)
    # `local-user admin password ...` and `rule 5 ...`: the identifying words are part of the key.
    return key


@dataclass
class RunningConfig:
    style: str
    nodes: list[Node] = field(default_factory=list)

    # -- building -------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str, style: str) -> RunningConfig:
        """Read an indented config (one space per level below a section opener)."""
        if style not in STYLES:
            raise ValueError(f"unknown config style {style!r}")
        config = cls(style)
        section: Node | None = None
        for raw in text.splitlines():
            line = raw.rstrip()
            stripped = line.strip()
            if not stripped or stripped in ("#", "!", "return", "end"):
                if stripped in ("#", "!"):
                    section = None  # a separator closes the section; Comware indents global lines too
                continue
            if line.startswith(" ") and section is not None:
                section.children.append(Node(stripped))
                continue
            node = Node(stripped, [] if config.opens_section(stripped) else None)
            config.nodes.append(node)
            section = node if node.children is not None else None
        return config

    def copy(self) -> RunningConfig:
        return RunningConfig(self.style, [node.copy() for node in self.nodes])

    def opens_section(self, line: str) -> bool:
        return bool(_SECTION_OPENERS[self.style].match(line))

    # -- queries --------------------------------------------------------------------------
    def section(self, opener: str) -> Node | None:
        for node in self.nodes:
            if node.children is not None and node.text == opener:
                return node
        return None

    def lines(self) -> list[str]:
        """Every line, children indented by one space (no separators)."""
        out = []
        for node in self.nodes:
            out.append(node.text)
            for child in node.children or ():
                out.append(" " + child.text)
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunningConfig) and self.lines() == other.lines()

    # -- changes --------------------------------------------------------------------------
    def enter(self, opener: str) -> Node:
        """The section `opener`, created at the end if it doesn't exist yet."""
        node = self.section(opener)
        if node is None:
            node = Node(opener, [])
            self.nodes.append(node)
        return node

    def apply(self, line: str, section: Node | None = None) -> None:
        """Apply one plain configuration line at top level or inside `section`."""
        line = " ".join(line.split())
        target = self.nodes if section is None else section.children
        key = _key(line)
        if key is not None:
            for index, node in enumerate(target):
                if node.children is None and _key(node.text) == key:
                    target[index] = Node(line)
                    return
        if any(node.children is None and node.text == line for node in target):
            return
        target.append(Node(line))

    def remove(self, line: str, section: Node | None = None) -> bool:
        """`undo line` / `no line`: drop matching lines (or a whole section); True if anything went."""
        line = " ".join(line.split())
        target = self.nodes if section is None else section.children
        before = len(target)
        if section is None and self.opens_section(line):
            target[:] = [node for node in target if not (node.children is not None and node.text == line)]
            if len(target) != before:
                return True
        key = _key(line)
        target[:] = [node for node in target if not (
            node.children is None and (node.text == line or node.text.startswith(line + " ")
                                       or (key is not None and _key(node.text) == key)))]
        return len(target) != before

    # -- rendering ------------------------------------------------------------------------
    def render(self, header: list[str] | None = None) -> str:
        """The config as the device prints it (lines joined with newlines)."""
        separator = "!" if self.style == "cisco" else "#"
        out = list(header or [])
        previous_section = True
        for node in self.nodes:
            if node.children is not None or previous_section:
                out.append(separator)
            # Comware prints global (non-section) lines one space in.
            out.append(" " + node.text if self.style == "comware" and node.children is None else node.text)
            for child in node.children or ():
                out.append(" " + child.text)
            previous_section = node.children is not None
        out.append(separator)
        out.append("end" if self.style == "cisco" else "return")
        return "\n".join(out)
