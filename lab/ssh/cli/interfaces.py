"""Reading a lab device's interfaces from its config tree: shared by the vendor CLIs and the management plane."""

from __future__ import annotations

import re

from platforms.config import ConfigTree, Node


def interfaces_of(config: ConfigTree) -> list[Node]:
    return [node for node in config.nodes if node.children is not None and node.text.startswith("interface ")]


def interface_ip(node: Node) -> str | None:
    for child in node.children or ():
        parts = child.text.split()
        if parts[:2] == ["ip", "address"] and len(parts) >= 3 and re.match(r"\d+\.\d+\.\d+\.\d+$", parts[2]):
            return parts[2]
    return None


def interface_description(node: Node) -> str:
    for child in node.children or ():
        if child.text.startswith("description "):
            return child.text.split(None, 1)[1]
    return ""


def is_shutdown(node: Node) -> bool:
    return any(child.text == "shutdown" for child in node.children or ())
