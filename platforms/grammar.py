"""What a platform's configuration language looks like: one `Grammar` per platform slug.

The grammar is data the platform module fills in and every reader of configs shares: the lab's devices,
the backup's normalising, the containment and change previews, compliance. `platforms.config.ConfigTree`
does the parsing and applying with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Grammar:
    negation: str  # "undo" (VRP, Comware) or "no" (IOS, RGOS)
    separator: str  # "#" or "!": the line between blocks
    trailer: str  # "return" or "end": the config's last line
    # Lines that open a section (the lines typed after them, and indented under them, belong to it).
    section_openers: re.Pattern
    # Lines a device keeps once per section: a newer one replaces the older (`description`, `ip address`...).
    single_valued: re.Pattern
    # Multi-line banners: the opening line, with groups `kind` ("banner login") and `delimiter` (ends the block).
    banner_start: re.Pattern | None = None
    # Lines a device prints around its config that are no configuration ("Building configuration...").
    noise: re.Pattern | None = None
    # Comware prints global lines one space in; its parser must not take them for a section's children.
    indent_globals: bool = False
    # Comment lines besides the separator itself ("!Software Version ...", "# Huawei ...").
    comment_prefixes: tuple[str, ...] = field(default=("#", "!"))

    def is_decoration(self, stripped: str) -> bool:
        """A separator, comment, the trailer or output noise: kept for the text, no configuration in it."""
        return stripped.startswith(self.comment_prefixes) or stripped == self.trailer or bool(
            self.noise and self.noise.match(stripped))

    def negate(self, line: str) -> str | None:
        """`undo X` / `no X` → X; None for a line that is no negation."""
        prefix = self.negation + " "
        return line[len(prefix):] if line.startswith(prefix) else None

    def negation_of(self, line: str) -> str:
        return f"{self.negation} {line}"


@dataclass(frozen=True)
class Abbreviations:
    """How a platform shortens interface names in its tables ("GE0/0/1"), and back.

    `pairs` are (short, full), longest short first; an abbreviation only counts when a digit follows it.
    `spaced`: the platform writes a space between type and number ("GigabitEthernet 0/1", RGOS)."""

    pairs: tuple[tuple[str, str], ...]
    spaced: bool = False

    def expand(self, name: str) -> str:
        """A table's interface name as the full name (GE0/0/2 → GigabitEthernet0/0/2); full names and unknown
        types come back as they are (with the platform's space where it writes one)."""
        name = (name or "").strip()
        space = " " if self.spaced else ""
        for _short, full in self.pairs:
            if name.lower().startswith(full.lower()):
                rest = name[len(full):].lstrip()
                return full + space + rest if rest[:1].isdigit() else name
        for short, full in self.pairs:
            rest = name[len(short):].lstrip()
            if name.lower().startswith(short.lower()) and rest[:1].isdigit():
                return full + space + rest
        return name

    def abbreviate(self, name: str) -> str:
        """A full interface name as the platform's tables print it (GigabitEthernet0/0/1 → GE0/0/1)."""
        for short, full in sorted(self.pairs, key=lambda pair: -len(pair[1])):
            if name.startswith(full) and name[len(full):].lstrip()[:1].isdigit():
                return short + name[len(full):].lstrip()
        return name
