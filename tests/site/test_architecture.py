"""The layout rules of the product, read from the source with ast (issue 16).

- No import cycle between the product's modules, counting imports inside functions and under
  TYPE_CHECKING: a lazy import that dodges a cycle is still a cycle.
- `requests` is imported only by the Bilibili protocol package, the image proxy, the address
  guard (`biliup_site/addresses.py`) and the streamlink bridge.
- `biliup_site/bilibili/` imports no model and no app module: only the standard library, third
  parties, `django.conf` and itself.
- No product module over 800 lines (migrations aside).
- `accounts` is the bottom app: it imports the site's plumbing and the protocol, no other app.

The product's packages are the ones pyproject.toml ships, so a new app is checked as soon as it
is packaged.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 800
PROTOCOL = "biliup_site.bilibili"
REQUESTS_ALLOWED = {
    "biliup_site.proxy",
    "biliup_site.addresses",  # the address guard fitted into requests' connections
    "recorder.streamlink_sources",
}
# What the protocol package may import from Django: settings for the hosts, nothing that
# reaches the database or an app.
PROTOCOL_DJANGO_ALLOWED = ("django.conf",)


@dataclass
class Graph:
    root: Path
    packages: list[str]
    files: dict[str, Path] = field(default_factory=dict)
    # module -> {imported module or foreign dotted name: first line it is imported on}
    imports: dict[str, dict[str, int]] = field(default_factory=dict)

    def internal(self, module: str) -> set[str]:
        return {name for name in self.imports[module] if name in self.files}


def product_packages(root: Path = ROOT) -> list[str]:
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    return list(pyproject["tool"]["setuptools"]["packages"])


def read_graph(root: Path, packages: Iterable[str]) -> Graph:
    graph = Graph(root, list(packages))
    for package in graph.packages:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root)
            if "migrations" in relative.parts:
                continue
            module = ".".join(relative.with_suffix("").parts)
            graph.files[module.removesuffix(".__init__")] = path
    for module, path in graph.files.items():
        graph.imports[module] = _imports(graph, module, path)
    return graph


def _imports(graph: Graph, module: str, path: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(graph, module, node)
            # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod.
            names = [
                f"{base}.{alias.name}"
                if f"{base}.{alias.name}" in graph.files
                else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            target = _owner(graph, name)
            if target != module:
                found.setdefault(target, node.lineno)
    return found


def _absolute(graph: Graph, module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    if graph.files[module].name != "__init__.py":
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _owner(graph: Graph, name: str) -> str:
    """The product module a dotted name lives in, or the name itself when it is foreign."""
    probe = name
    while probe not in graph.files and "." in probe:
        probe = probe.rsplit(".", 1)[0]
    return probe if probe in graph.files else name


def cycles(graph: Graph) -> list[list[str]]:
    """Every strongly connected group of two or more modules, each as one cycle through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative Tarjan: the product's import chains are deeper than a comfortable recursion.
        work = [(start, iter(sorted(graph.internal(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.internal(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(_one_cycle(graph, set(group)))

    for module in sorted(graph.files):
        if module not in index:
            visit(module)
    return groups


def _one_cycle(graph: Graph, group: set[str]) -> list[str]:
    # A shortest path back to the first module, so the message names an actual loop to cut.
    first = min(group)
    paths = {first: [first]}
    frontier = [first]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.internal(node) & group):
                if child == first:
                    return [*paths[node], first]
                if child not in paths:
                    paths[child] = [*paths[node], child]
                    following.append(child)
        frontier = following
    return sorted(group)


def _where(graph: Graph, module: str, target: str) -> str:
    path = graph.files[module].relative_to(graph.root)
    return f"{path}:{graph.imports[module][target]} imports {target}"


def requests_outside(graph: Graph) -> list[str]:
    return [
        _where(graph, module, target)
        for module, targets in sorted(graph.imports.items())
        for target in targets
        if (target == "requests" or target.startswith("requests."))
        and not (module == PROTOCOL or module.startswith(PROTOCOL + "."))
        and module not in REQUESTS_ALLOWED
    ]


def protocol_leaks(graph: Graph) -> list[str]:
    """Imports from the protocol package of an app, a model, or any of the site outside it."""
    leaks = []
    for module, targets in sorted(graph.imports.items()):
        if not (module == PROTOCOL or module.startswith(PROTOCOL + ".")):
            continue
        for target in targets:
            top = target.split(".")[0]
            if target == PROTOCOL or target.startswith(PROTOCOL + "."):
                continue
            app = top in graph.packages
            beyond_settings = top == "django" and not target.startswith(
                PROTOCOL_DJANGO_ALLOWED
            )
            if app or beyond_settings:
                leaks.append(_where(graph, module, target))
    return leaks


def app_imports(graph: Graph, app: str) -> list[str]:
    """Imports from `app` of another app (biliup_site, the project package, is not an app)."""
    return [
        _where(graph, module, target)
        for module, targets in sorted(graph.imports.items())
        if module.split(".")[0] == app
        for target in targets
        if target in graph.files and target.split(".")[0] not in (app, "biliup_site")
    ]


def oversized(graph: Graph) -> list[str]:
    sizes = {
        module: len(path.read_text().splitlines())
        for module, path in graph.files.items()
    }
    return [
        f"{graph.files[module].relative_to(graph.root)}: {lines} lines"
        for module, lines in sorted(sizes.items())
        if lines > MAX_LINES
    ]


@pytest.fixture(scope="module")
def graph() -> Graph:
    return read_graph(ROOT, product_packages())


def test_the_product_has_no_import_cycle(graph: Graph) -> None:
    found = [" -> ".join(cycle) for cycle in cycles(graph)]
    assert found == [], "import cycles:\n" + "\n".join(found)


def test_only_the_protocol_package_the_proxy_and_streamlink_import_requests(
    graph: Graph,
) -> None:
    assert requests_outside(graph) == []


def test_the_protocol_package_imports_no_model_and_no_app(graph: Graph) -> None:
    assert any(m.startswith(PROTOCOL + ".") for m in graph.files)
    assert protocol_leaks(graph) == []


def test_accounts_imports_no_other_app(graph: Graph) -> None:
    assert app_imports(graph, "accounts") == []


def test_no_product_module_is_over_800_lines(graph: Graph) -> None:
    assert oversized(graph) == []


def test_every_package_says_what_lives_there(graph: Graph) -> None:
    silent = [
        package
        for package in [*graph.packages, PROTOCOL]
        if not ast.get_docstring(ast.parse(graph.files[package].read_text()))
    ]
    assert silent == []


# The checks themselves, on a small tree made for them: each rule can fail.


def _tree(tmp_path: Path, files: dict[str, str]) -> Graph:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return read_graph(tmp_path, ["app", "biliup_site"])


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/runner.py": "from app import upos\n",
            "app/upos.py": "def run():\n    from app.runner import go\n",
            "app/models.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .titles import x\n",
            "app/titles.py": "from . import models\n",
            "app/plain.py": "import app.models\n",
            "biliup_site/__init__.py": "",
            "biliup_site/views.py": "from app.plain import x\n",
        },
    )
    assert sorted(cycles(graph)) == [
        ["app.models", "app.titles", "app.models"],
        ["app.runner", "app.upos", "app.runner"],
    ]
    assert app_imports(graph, "biliup_site") == [
        "biliup_site/views.py:1 imports app.plain"
    ]


def test_requests_and_leaks_from_the_protocol_package_are_found(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/space.py": "import requests\n",
            "app/models.py": "from django.db import models\n",
            "biliup_site/__init__.py": "",
            "biliup_site/proxy.py": "import requests\n",
            "biliup_site/bilibili/__init__.py": "from biliup_site.bilibili.http import call\n",
            "biliup_site/bilibili/http.py": "import requests\nfrom django.conf import settings\n",
            "biliup_site/bilibili/live.py": "from django.db import models\nfrom app.models import M\n",
        },
    )
    assert requests_outside(graph) == ["app/space.py:1 imports requests"]
    assert protocol_leaks(graph) == [
        "biliup_site/bilibili/live.py:1 imports django.db",
        "biliup_site/bilibili/live.py:2 imports app.models",
    ]


def test_a_long_module_is_found(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/big.py": "x = 1\n" * (MAX_LINES + 1),
            "app/migrations/0001_initial.py": "x = 1\n" * (MAX_LINES + 1),
            "biliup_site/__init__.py": "",
        },
    )
    assert oversized(graph) == [f"app/big.py: {MAX_LINES + 1} lines"]
