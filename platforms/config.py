"""A device configuration as a tree of sections and lines, read and changed the way the device does it.

`ConfigTree.parse(text, grammar)` reads a running config: a line that opens a section (`interface X`,
`acl number 3000`, `ip access-list extended NAME`, `user-interface vty 0 4`, `line vty 0 4` ...) holds the
indented lines after it, until a separator or the next top-level line; multi-line banners stay one node.
Separators, comments and the trailer are kept as decoration, so `text()` gives back what was read (the
parse loses nothing), while `render()` prints the config the way the device prints it.

`apply(line)` works like typing the line in config mode: a section opener enters (or creates) the section,
a plain line replaces the line it supersedes (the grammar's single-valued lines: `description`, `ip address`,
`rule 5` ...) or is appended, and `undo X` / `no X` removes the lines (or the whole section) that start with X.
The lab's devices keep their running config in this tree; previews of changes (containment, the change
pipeline) apply their lines to a copy of a backed-up config with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from platforms.grammar import Grammar

LINE, SECTION, DECORATION = "line", "section", "decoration"


@dataclass
class Node:
    text: str
    children: list[Node] | None = None  # None for a plain line or decoration; a list for a section
    kind: str = ""  # LINE, SECTION or DECORATION; by default a section when it has children, else a line
    indent: str = " "  # as read (children only): `text()` gives it back
    number: int = 0  # its line number in the text it was parsed from (evidence points there); 0 when applied

    def __post_init__(self):
        self.kind = self.kind or (SECTION if self.children is not None else LINE)

    def copy(self) -> Node:
        return Node(self.text, None if self.children is None else [c.copy() for c in self.children], self.kind,
                    self.indent, self.number)

    @property
    def is_section(self) -> bool:
        return self.children is not None


@dataclass
class ConfigTree:
    grammar: Grammar
    nodes: list[Node] = field(default_factory=list)

    # -- reading ------------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str, grammar: Grammar) -> ConfigTree:
        tree = cls(grammar)
        section: Node | None = None
        opener_candidate: Node | None = None
        lines = text.replace("\r\n", "\n").split("\n")
        index = 0
        while index < len(lines):
            raw = lines[index].rstrip()
            index += 1
            number = index
            stripped = raw.strip()
            indented = raw[:1] in (" ", "\t")
            if not stripped:
                continue
            if grammar.is_decoration(stripped):
                if indented and section is not None:  # " #" between a section's sub-blocks (VRP aaa, IOS bgp)
                    section.children.append(Node(stripped, kind=DECORATION, indent=_indent(raw), number=number))
                else:  # a separator at column 0 closes the section (Comware indents its global lines too)
                    section = opener_candidate = None
                    tree.nodes.append(Node(raw, kind=DECORATION, number=number))
                continue
            banner = grammar.banner_start.match(stripped) if grammar.banner_start else None
            if banner:
                block, index = _banner_block(stripped, banner.group("delimiter"), lines, index)
                node = Node(block, number=number)
            else:
                node = Node(stripped, number=number)
            if indented and section is None and opener_candidate is not None:
                # Indented lines under a line the grammar does not know as an opener (`vrf definition X`,
                # `radius-server template X`): that line opens a section all the same.
                section, opener_candidate.children, opener_candidate.kind = opener_candidate, [], SECTION
            if indented and section is not None:
                node.indent = _indent(raw)
                section.children.append(node)
                continue
            if not banner and tree.opens_section(stripped):
                node.children, node.kind = [], SECTION
            tree.nodes.append(node)
            section = node if node.is_section else None
            # Comware indents its global lines: only a line at column 0 can open a section by indentation.
            opener_candidate = node if not indented and not banner and not node.is_section else None
        return tree

    def opens_section(self, line: str) -> bool:
        return bool(self.grammar.section_openers.match(line))

    def copy(self) -> ConfigTree:
        return ConfigTree(self.grammar, [node.copy() for node in self.nodes])

    def section(self, opener: str) -> Node | None:
        for node in self.nodes:
            if node.is_section and node.text == opener:
                return node
        return None

    def sections(self, prefix: str = "") -> list[Node]:
        return [node for node in self.nodes if node.is_section and node.text.startswith(prefix)]

    def top_lines(self) -> list[Node]:
        """The plain configuration lines at top level (no sections, no decoration)."""
        return [node for node in self.nodes if node.kind == LINE]

    def lines(self) -> list[str]:
        """Every configuration line, a section's lines indented as read (one space, more for nested blocks), no
        decoration: what two configs compare by, and what hier_config reads."""
        out = []
        for node in self.nodes:
            if node.kind == DECORATION:
                continue
            out.append(node.text)
            out.extend(child.indent + child.text for child in node.children or () if child.kind != DECORATION)
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConfigTree) and self.lines() == other.lines()

    # -- changing -----------------------------------------------------------------------------
    def enter(self, opener: str) -> Node:
        """The section `opener`, created at the end if it doesn't exist yet."""
        node = self.section(opener)
        if node is None:
            node = Node(opener, [], SECTION)
            self.nodes.append(node)
        return node

    def single_key(self, text: str) -> str | None:
        """The words a newer line of the same kind replaces, or None if such lines accumulate."""
        match = self.grammar.single_valued.match(text)
        return match.group(0) if match else None

    def is_banner(self, line: str) -> bool:
        return bool(self.grammar.banner_start and self.grammar.banner_start.match(line.strip()))

    def apply(self, line: str, section: Node | None = None) -> None:
        """Apply one plain configuration line at top level or inside `section` (a banner keeps its text)."""
        line = line.strip() if self.is_banner(line) else " ".join(line.split())
        target = self.nodes if section is None else section.children
        key = self.single_key(line)
        if key is not None:
            for index, node in enumerate(target):
                if node.kind == LINE and self.single_key(node.text) == key:
                    target[index] = Node(line)
                    return
        if any(node.kind == LINE and node.text == line for node in target):
            return
        target.append(Node(line))

    def remove(self, line: str, section: Node | None = None) -> bool:
        """`undo line` / `no line`: drop matching lines (or a whole section); True if anything went."""
        line = " ".join(line.split())
        target = self.nodes if section is None else section.children
        before = len(target)
        if section is None and self.opens_section(line):
            target[:] = [node for node in target if not (node.is_section and node.text == line)]
            if len(target) != before:
                return True
        key = self.single_key(line)
        target[:] = [node for node in target if not (
            node.kind == LINE and (node.text == line or node.text.startswith(line + " ")
                                   or (key is not None and self.single_key(node.text) == key)))]
        return len(target) != before

    def apply_lines(self, lines: list[str]) -> ConfigTree:
        """Apply config-file lines: a top-level line at column 0, a section's lines indented under its opener,
        `undo X`/`no X` at the level it is written. (A driver pushing them adds the `quit`/`exit` after each
        section that makes a device read them the same way.) Returns self."""
        section: Node | None = None
        for raw in lines:
            if self.is_banner(raw):  # a banner block (its lines joined by newlines) replaces the one there
                section = None
                self.apply(raw)
                continue
            line = " ".join(raw.split())
            indented = raw[:1] in (" ", "\t")
            if not indented:
                section = None
            if not line or self.grammar.is_decoration(line) or line in ("quit", "exit"):
                continue
            negated = self.grammar.negate(line)
            if negated is not None:
                self.remove(negated, section if indented else None)
            elif not indented and self.opens_section(line):
                section = self.enter(line)
            else:
                self.apply(line, section if indented else None)
        return self

    # -- writing ------------------------------------------------------------------------------
    def render(self, header: list[str] | None = None) -> str:
        """The config as the device prints it: separators between blocks, the trailer last."""
        grammar = self.grammar
        out = list(header or [])
        previous_section = True
        for node in self.nodes:
            if node.kind == DECORATION:
                continue
            if node.is_section or previous_section:
                out.append(grammar.separator)
            out.append(" " + node.text if grammar.indent_globals and not node.is_section else node.text)
            out.extend(child.indent + child.text for child in node.children or () if child.kind != DECORATION)
            previous_section = node.is_section
        out += [grammar.separator, grammar.trailer]
        return "\n".join(out)

    def text(self) -> str:
        """The config as it was read, decoration and indentation included (parse, then text(), loses nothing)."""
        out = []
        for node in self.nodes:
            out.append(node.text)
            out.extend(child.indent + child.text for child in node.children or ())
        return "\n".join(out) + "\n"


def _banner_block(first: str, delimiter: str, lines: list[str], index: int) -> tuple[str, int]:
    """The banner starting at `first` up to the line that closes it with `delimiter` (one node, newlines kept)."""
    opened = first.split(delimiter, 1)[1] if delimiter in first else ""
    block = [first]
    if delimiter in opened:
        return first, index
    while index < len(lines):
        block.append(lines[index].rstrip())
        index += 1
        if delimiter in block[-1]:
            break
    return "\n".join(block), index



def _indent(raw: str) -> str:
    return raw[:len(raw) - len(raw.lstrip())]
