"""The project's architecture, read from its own source: no import cycles, production never imports the lab,
and the packages depend on each other one way (DESIGN: inventory → collectors → policies/egress/threat → changes;
`web/` is the console shell the apps plug into, so adding an app never edits it).

The import graph is built with `ast` from every .py file of the project's own packages (discovered beside
manage.py, so policies/, egress/, changes/ and platforms/ are checked as soon as they exist). Imports inside
functions are edges too: they run, only later, so a cycle or a lab import hidden in a function is still one.
Imports under `if TYPE_CHECKING:` never run and are left out.

An exception is allowed only when it is listed below with a one-line reason; a listed exception that is no
longer needed fails too, so the lists only shrink.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
NOT_PROJECT = {"tests", "migrations", ".venv", "node_modules", "var", "locale", "__pycache__"}

# Who may import the lab: the lab itself, the benchmarks and the tests (tests are not part of the graph).
MAY_IMPORT_LAB = {"lab", "bench"}

# Package direction. Data flows inventory → collectors → policies/egress/threat → changes (→ collectors again to
# verify, which is changes importing collectors: downstream reading upstream is the allowed direction). platforms/
# is the per-vendor bottom layer that everyone consumes (inventory checks host keys with it, collectors and the lab
# drive devices with it), so it imports no app. A package never imports one downstream of it, not even inside a
# function.
DOWNSTREAM = {
    "platforms": {"inventory", "collectors", "policies", "egress", "threat", "changes"},
    "inventory": {"collectors", "policies", "egress", "threat", "changes"},
    "collectors": {"policies", "egress", "threat", "changes"},
}
# The console shell's own modules: the apps plug into web through web.registry (navigation sections, device-page
# panels, metrics collectors), never by importing these.
WEB_SHELL = {"web.views", "web.urls", "web.navigation", "web.metrics", "web.wsgi", "web.apps", "web.admin"}
# What web itself may import of the apps: the administrative tree and scopes (inventory) are the console's base;
# platforms/ is the bottom layer everyone may use.
WEB_MAY_IMPORT = {"inventory", "platforms"}
APPS = {"inventory", "collectors", "policies", "egress", "threat", "changes", "platforms", "lab", "bench"}

# (importer, imported) → reason: real, justified exceptions to the rules above.
KNOWN_DIRECTION_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("web.urls", "collectors.views"): "the root URLconf still mounts config versions and host-key acceptance from "
                                      "collectors.views (web/urls.py is outside issue 9 item 6; an app-urls "
                                      "registry is the follow-up)",
}
# Cycles (the sorted tuple of the modules that import each other) through files being rewritten elsewhere now.
KNOWN_CYCLES: dict[tuple[str, ...], str] = {}


# ------------------------------------------------------------------------------------------------ the graph


@dataclass
class Graph:
    modules: dict[str, Path] = field(repr=False)
    # importer → {imported: line}, for imports that run when the module is imported, and for all of them.
    module_level: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)
    every: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)


def project_packages(root: Path) -> list[str]:
    """Top-level packages beside manage.py: a directory with __init__.py or apps.py (a Django app)."""
    return sorted(p.name for p in root.iterdir()
                  if p.is_dir() and p.name not in NOT_PROJECT and not p.name.startswith(".")
                  and ((p / "__init__.py").exists() or (p / "apps.py").exists()))


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def discover_modules(root: Path) -> dict[str, Path]:
    modules = {}
    for package in project_packages(root):
        for path in sorted((root / package).rglob("*.py")):
            if NOT_PROJECT.intersection(path.relative_to(root).parts[:-1]):
                continue
            modules[module_name(root, path)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module):
    """(node, runs_at_import_time) for every import statement, skipping `if TYPE_CHECKING:` blocks."""

    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for orelse in child.orelse:
                    yield from walk_one(orelse, in_function)
                continue
            yield from walk_one(child, in_function)

    def walk_one(node, in_function):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, not in_function
        yield from walk(node, in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    yield from walk(tree, False)


def _known(name: str, modules) -> str | None:
    """`name` when it is one of the project's modules (a name that is no module at all fails at import time on
    its own; pointing it at its package would invent an edge)."""
    return name if name in modules else None


def resolve(importer: str, node: ast.Import | ast.ImportFrom, modules, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [m for alias in node.names if (m := _known(alias.name, modules))]
    if node.level:
        base = importer if is_package else importer.rpartition(".")[0]
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    targets = []
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        target = submodule if submodule in modules else _known(source, modules)
        if target:
            targets.append(target)
    return targets


def build_graph(root: Path) -> Graph:
    graph = Graph(discover_modules(root))
    for name, path in graph.modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        module_level, every = graph.module_level.setdefault(name, {}), graph.every.setdefault(name, {})
        for node, at_import in _imports(tree):
            for target in resolve(name, node, graph.modules, path.name == "__init__.py"):
                if target == name:
                    continue
                every.setdefault(target, node.lineno)
                if at_import:
                    module_level.setdefault(target, node.lineno)
    return graph


def cycles(edges: dict[str, dict[str, int]]) -> list[tuple[tuple[str, ...], list[str]]]:
    """Each strongly connected component of more than one module (Tarjan), sorted, with one cycle through it
    as a path a → b → … → a."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def connect(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return [(tuple(sorted(component)), _path_in(component, edges)) for component in components]


def _path_in(component: set[str], edges) -> list[str]:
    """A shortest cycle through the component's first module, as a path that ends where it starts."""
    start = min(component)
    previous, frontier = {start: None}, [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(edges.get(v, {})):
                if w == start:
                    path = [v]
                    while previous[path[-1]] is not None:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if w in component and w not in previous:
                    previous[w] = v
                    following.append(w)
        frontier = following
    return sorted(component)


def describe(path: list[str], edges) -> str:
    return " → ".join(f"{a} (line {edges[a][b]})" for a, b in zip(path, path[1:], strict=False)) + f" → {path[-1]}"


def top(module: str) -> str:
    return module.partition(".")[0]


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build_graph(ROOT)


# ------------------------------------------------------------------------------------------------ the graph itself


def test_the_graph_resolves_relative_and_function_level_imports_and_skips_type_checking(tmp_path):
    (tmp_path / "manage.py").write_text("")
    for folder in ("alpha", "alpha/sub", "beta", "alpha/migrations", "tests", "node_modules/pkg"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "gamma").mkdir()
    (tmp_path / "gamma" / "apps.py").write_text("import beta\n")  # a Django app without __init__.py
    (tmp_path / "alpha" / "sub" / "__init__.py").write_text("from . import leaf\n")
    (tmp_path / "alpha" / "sub" / "leaf.py").write_text(
        "from typing import TYPE_CHECKING\nfrom .. import top\nfrom ..top import thing\n"
        "if TYPE_CHECKING:\n    from beta.only_types import T\n"
        "class K:\n    import beta.b\n"
        "def later():\n    from beta import b, not_a_module\n    import os\n")
    (tmp_path / "alpha" / "top.py").write_text("import alpha.sub.leaf\n")
    (tmp_path / "beta" / "b.py").write_text("def f():\n    from alpha.sub.leaf import later\n")
    (tmp_path / "beta" / "only_types.py").write_text("")

    graph = build_graph(tmp_path)

    assert project_packages(tmp_path) == ["alpha", "beta", "gamma"]
    assert "alpha.migrations" not in graph.modules and "gamma.apps" in graph.modules
    assert graph.module_level["alpha.sub"] == {"alpha.sub.leaf": 1}
    assert graph.module_level["alpha.sub.leaf"] == {"alpha.top": 2, "beta.b": 7}  # class bodies run at import
    assert graph.every["alpha.sub.leaf"] == {"alpha.top": 2, "beta.b": 7, "beta": 9}  # not beta.only_types
    assert cycles(graph.module_level) == [(("alpha.sub.leaf", "alpha.top"), ["alpha.sub.leaf", "alpha.top",
                                                                               "alpha.sub.leaf"])]
    assert [component for component, _ in cycles(graph.every)] == [("alpha.sub.leaf", "alpha.top", "beta.b")]


def test_the_graph_covers_every_project_package(graph):
    packages = {top(m) for m in graph.modules}
    assert {"web", "inventory", "collectors", "threat", "lab", "bench"} <= packages
    assert not packages & {"tests", "node_modules", "var"}
    assert any(graph.every[m].keys() - graph.module_level[m].keys() for m in graph.modules), \
        "imports inside functions must be in the graph"


# ------------------------------------------------------------------------------------------------ the rules


def test_no_import_cycle_between_project_modules(graph):
    """Counting imports that run at start-up only: a cycle here is an ImportError waiting for a new import."""
    found = [describe(path, graph.module_level) for _, path in cycles(graph.module_level)]
    assert not found, "import cycles at module level:\n" + "\n".join(found)


def test_no_import_cycle_even_through_imports_inside_functions(graph):
    """A function-level import that closes a cycle is a cycle deferred, not broken: the two modules are one."""
    found = {component: describe(path, graph.every) for component, path in cycles(graph.every)}
    unexpected = [text for key, text in found.items() if key not in KNOWN_CYCLES]
    assert not unexpected, "import cycles (imports inside functions included):\n" + "\n".join(unexpected)
    stale = [key for key in KNOWN_CYCLES if key not in found]
    assert not stale, f"listed cycles that are gone; remove them from KNOWN_CYCLES: {stale}"


def test_production_code_never_imports_the_lab_or_the_benchmarks(graph):
    found = [f"{importer} (line {line}) imports {imported}"
             for importer, imports in graph.every.items() if top(importer) not in MAY_IMPORT_LAB
             for imported, line in imports.items() if top(imported) in {"lab", "bench"}]
    assert not found, "production code imports the lab or the benchmarks:\n" + "\n".join(found)


def _violations(graph, forbidden) -> dict[tuple[str, str], str]:
    return {(importer, imported): f"{importer} (line {line}) imports {imported}"
            for importer, imports in graph.every.items() for imported, line in imports.items()
            if forbidden(importer, imported)}


def _assert_only_known(found: dict[tuple[str, str], str], what: str, known_keys) -> None:
    unexpected = [text for key, text in found.items() if key not in KNOWN_DIRECTION_EXCEPTIONS]
    assert not unexpected, f"{what}:\n" + "\n".join(unexpected)
    stale = [key for key in known_keys if key not in found]
    assert not stale, f"listed exceptions that are gone; remove them from KNOWN_DIRECTION_EXCEPTIONS: {stale}"


def test_data_flows_one_way_between_packages(graph):
    """inventory imports no app downstream of it, collectors none of policies/egress/threat/changes, and so on."""
    found = _violations(graph, lambda a, b: top(b) in DOWNSTREAM.get(top(a), ()))
    _assert_only_known(found, "imports against the data flow (an upstream package imports a downstream one)",
                       [k for k in KNOWN_DIRECTION_EXCEPTIONS if top(k[1]) in DOWNSTREAM.get(top(k[0]), ())])


def test_only_web_imports_the_console_shell(graph):
    """Apps plug into web through web.registry; web.views, web.navigation, web.metrics, web.urls are web's own."""
    found = _violations(graph, lambda a, b: b in WEB_SHELL and top(a) != "web")
    _assert_only_known(found, "modules outside web import the console shell's internals",
                       [k for k in KNOWN_DIRECTION_EXCEPTIONS if k[1] in WEB_SHELL and top(k[0]) != "web"])


def test_web_knows_no_app_beyond_inventory_and_the_platforms(graph):
    """Adding an app never edits web/: navigation, device-page panels and metrics come from the apps' registrations."""
    found = _violations(graph, lambda a, b: top(a) == "web" and top(b) in APPS - WEB_MAY_IMPORT)
    _assert_only_known(found, "web imports an app (register it from the app's AppConfig.ready() instead)",
                       [k for k in KNOWN_DIRECTION_EXCEPTIONS if top(k[0]) == "web"])


# ------------------------------------------------------------------------------------------------ the registries


def test_the_apps_fill_the_console_registries_from_ready():
    from django.template.loader import get_template
    from django.urls import reverse
    from django.utils.module_loading import import_string

    from web import registry

    sections = [s.url_name for s in registry.sections()]
    assert sections[:2] == ["overview", "coverage"]  # web's own, then the apps' in DESIGN's order
    assert [s for s in sections if s in {"bandwidth:index", "threat:alerts", "inventory:devices"}] == [
        "bandwidth:index", "threat:alerts", "inventory:devices"]
    assert all(reverse(name) for name in sections)
    assert [p.name for p in registry.device_panels()][:2] == ["collectors", "compliance"]
    assert {m.name for m in registry.metrics_collectors()} >= {"collectors", "threat"}
    for panel in registry.device_panels():
        assert get_template(panel.template) and callable(import_string(panel.context))


@pytest.mark.django_db
def test_metrics_come_from_every_registered_collector():
    from prometheus_client import generate_latest

    from web.metrics import registry

    text = generate_latest(registry()).decode()
    assert "onenet_poll_cycles_total" in text and "onenet_alerts_open" in text


def test_registering_again_changes_nothing_and_a_clash_is_refused(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from web import registry

    monkeypatch.setattr(registry, "_sections", dict(registry._sections))
    monkeypatch.setattr(registry, "_panels", dict(registry._panels))
    before = registry.sections()
    overview = next(s for s in before if s.url_name == "overview")
    registry.register_section("overview", overview.label, order=overview.order)  # ready() run twice
    assert registry.sections() == before
    with pytest.raises(ImproperlyConfigured, match="'overview' is registered twice"):
        registry.register_section("overview", overview.label, order=99)
    panel = registry.device_panels()[0]
    registry.register_device_panel(panel.name, panel.template, panel.context, panel.order, panel.replaces)
    with pytest.raises(ImproperlyConfigured):
        registry.register_device_panel(panel.name, "elsewhere.html", panel.context, panel.order)


def test_a_section_shows_only_to_the_roles_it_names(client, demo_inventory, make_user, monkeypatch):
    from django.urls import reverse

    from web import registry

    monkeypatch.setattr(registry, "_sections", dict(registry._sections))
    registry.register_section("admin:index", "Admins only", order=90, roles=["admin"])
    client.force_login(make_user("amy", "manager"))
    assert reverse("admin:index") not in [s["url"] for s in client.get(reverse("overview")).context["nav_sections"]]
    client.force_login(make_user("root", "admin"))
    assert reverse("admin:index") in [s["url"] for s in client.get(reverse("overview")).context["nav_sections"]]


def test_the_device_page_is_its_panels_and_stands_without_them(client, demo_inventory, make_user, monkeypatch):
    """With the collectors' panel the interfaces and links are shown once, with rates and bandwidth links; with no
    panel registered (an inventory without collectors) the page still shows its own plain tables."""
    from django.conf import settings
    from django.urls import reverse
    from django.utils import translation

    from inventory.models import Device
    from web import registry

    with translation.override(settings.LANGUAGE_CODE):
        config_versions = translation.gettext("Config versions")
    device = Device.objects.get(name="nanjiang-agg-1")
    client.force_login(make_user("eng", "engineer"))
    page = client.get(reverse("inventory:device", args=[device.pk])).content.decode()
    assert page.count("<th>ifIndex</th>") == 1 and config_versions in page
    assert 'action="{}"'.format(reverse("accept_host_key", args=[device.pk])) not in page  # no key offered
    assert page.count("/bandwidth/links/") >= 1

    monkeypatch.setattr(registry, "_panels", {})
    page = client.get(reverse("inventory:device", args=[device.pk])).content.decode()
    assert page.count("<th>ifIndex</th>") == 1 and "/bandwidth/links/" not in page and config_versions not in page
    assert device.interfaces.first().name in page
