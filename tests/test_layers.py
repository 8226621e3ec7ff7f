"""Import directions between the layers, read from the source with ``ast`` (nothing is imported).

- ``queue_board/core/``, ``queue_board/forecast/`` and ``queue_board/reports/`` are pure: no web
  framework, database, plotting, CLI or progress bars, and none of the shell's layers or the simulator;
- ``queue_board/core/`` does not read the reports (the reports read the core);
- ``simulations/`` drives the core only: not the store, service, web, CLI or evaluation;
- matplotlib lives in ``queue_board/evaluation/`` alone;
- ``queue_board/service/`` is the shell but framework-free: no Flask;
- no import cycle between modules of the package, function-level imports included
  (imports under ``if TYPE_CHECKING:`` are exempt from the cycle check, not from the layer rules).

Every failure names the file, the line and the offending import.
"""

from __future__ import annotations

import ast
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("queue_board", "simulations")

#: third-party modules the pure layers must not touch (top-level names; ``flask_*`` by prefix)
FRAMEWORKS = frozenset(
    {
        "flask",
        "sqlalchemy",
        "alembic",
        "werkzeug",
        "socketio",
        "engineio",
        "gevent",
        "geventwebsocket",
        "matplotlib",
        "redis",
        "psycopg",
        "psycopg2",
        "click",
        "tqdm",
    }
)
SHELL = ("queue_board.store", "queue_board.service", "queue_board.web", "queue_board.cli", "queue_board.evaluation")


@dataclass(frozen=True, slots=True)
class Import:
    """One imported module, as written at one line of one file."""

    module: str  # the module the importer depends on, resolved to a module of the package when it is one
    line: int
    text: str  # the statement as written (first line), for the failure message
    type_checking: bool  # under ``if TYPE_CHECKING:``: never executed at run time


@dataclass(frozen=True, slots=True)
class Module:
    """A module of the package and the imports its source contains, at any depth."""

    name: str
    path: Path
    imports: tuple[Import, ...]

    @property
    def where(self) -> str:
        return self.path.relative_to(ROOT).as_posix()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _statement_text(source_lines: list[str], node: ast.stmt) -> str:
    return source_lines[node.lineno - 1].strip()


def _walk(nodes: Iterable[ast.AST], type_checking: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement under ``nodes`` (functions, classes, try blocks included), with
    whether it sits in the body of an ``if TYPE_CHECKING:``."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, type_checking
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _walk(node.body, True)
            # the else branch is what runs
            yield from _walk(node.orelse, type_checking)
        else:
            yield from _walk(ast.iter_child_nodes(node), type_checking)


def parse_imports(source: str, name: str, *, is_package: bool, known: frozenset[str]) -> list[Import]:
    """The imports of one module's source. ``from a import b`` depends on ``a.b`` when that is
    a module in ``known`` (a submodule), else on ``a``; relative imports are resolved."""
    tree = ast.parse(source)
    lines = source.splitlines()
    package = name if is_package else name.rpartition(".")[0]
    out: list[Import] = []
    for node, type_checking in _walk(tree.body, False):
        text = _statement_text(lines, node)
        if isinstance(node, ast.Import):
            out.extend(Import(alias.name, node.lineno, text, type_checking) for alias in node.names)
            continue
        if node.module == "__future__":
            continue
        if node.level:
            base_parts = package.split(".")
            base_parts = base_parts[: len(base_parts) - (node.level - 1)]
            base = ".".join([*base_parts, node.module] if node.module else base_parts)
        else:
            base = node.module or ""
        targets = {f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names}
        out.extend(Import(target, node.lineno, text, type_checking) for target in sorted(targets))
    return out


def _package_files() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def load_modules() -> dict[str, Module]:
    """Every module of the package, parsed."""
    files = _package_files()
    known = frozenset(_module_name(path) for path in files)
    modules: dict[str, Module] = {}
    for path in files:
        name = _module_name(path)
        source = path.read_text(encoding="utf-8")
        imports = parse_imports(source, name, is_package=path.name == "__init__.py", known=known)
        modules[name] = Module(name, path, tuple(imports))
    return modules


MODULES = load_modules()


def _within(module: str, prefixes: Iterable[str]) -> bool:
    """Whether ``module`` is one of ``prefixes`` or inside one of them."""
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _is_framework(module: str, names: frozenset[str] = FRAMEWORKS) -> bool:
    """Whether ``module`` belongs to one of the third-party ``names`` (``flask`` covers ``flask_*``)."""
    top = module.split(".")[0]
    return top in names or ("flask" in names and top.startswith("flask_"))


def _violations(importers: Iterable[str], forbidden: Callable[[str], bool], rule: str) -> list[str]:
    """``file:line: import`` for every import of ``importers`` that ``forbidden(module)`` rejects."""
    found = []
    for name in sorted(importers):
        module = MODULES[name]
        for imp in module.imports:
            if forbidden(imp.module):
                extra = " (under TYPE_CHECKING)" if imp.type_checking else ""
                found.append(f"{module.where}:{imp.line}: {imp.text}{extra}  [{rule}]")
    return found


def _report(found: list[str]) -> str:
    return f"{len(found)} forbidden import(s):\n" + "\n".join(found)


# ---------------------------------------------------------------- the checker itself


def test_the_parser_sees_every_kind_of_import() -> None:
    """A rule is only as good as its parser: module, function, class, try, TYPE_CHECKING and relative imports."""
    source = """
from __future__ import annotations
import os.path, flask
from typing import TYPE_CHECKING
from . import sibling, not_a_module
from ..core import branch
if TYPE_CHECKING:
    from matplotlib.figure import Figure
else:
    import json
class A:
    import tqdm
def f():
    try:
        from sqlalchemy import text
    except ImportError:
        pass
    def g():
        import queue_board.web.api as api
"""
    known = frozenset({"pkg.sub.sibling", "pkg.core.branch", "queue_board.web.api"})
    found = {(i.module, i.type_checking) for i in parse_imports(source, "pkg.sub.mod", is_package=False, known=known)}
    assert found == {
        ("os.path", False),
        ("flask", False),
        ("typing", False),
        ("pkg.sub.sibling", False),
        ("pkg.sub", False),
        ("pkg.core.branch", False),
        ("matplotlib.figure", True),
        ("json", False),
        ("tqdm", False),
        ("sqlalchemy", False),
        ("queue_board.web.api", False),
    }


def test_every_layer_is_found() -> None:
    """The rules below would pass vacuously on a tree they cannot see."""
    for layer in ("core", "forecast", "reports", "store", "service", "web", "cli", "evaluation"):
        assert any(_within(name, [f"queue_board.{layer}"]) for name in MODULES), layer
    assert "simulations.oracle" in MODULES
    assert any(i.module == "queue_board.core.branch" for i in MODULES["queue_board.forecast.monte_carlo"].imports)


# ---------------------------------------------------------------- the layer rules


def test_core_and_forecast_are_pure() -> None:
    """No framework, database, plotting, CLI, the shell's layers or the simulator in the pure centre."""
    pure = [n for n in MODULES if _within(n, ["queue_board.core", "queue_board.forecast", "queue_board.reports"])]

    def forbidden(module: str) -> bool:
        # queue_board itself (its __init__) is the Flask app factory
        return _is_framework(module) or _within(module, [*SHELL, "simulations"]) or module == "queue_board"

    found = _violations(pure, forbidden, "core/ and forecast/ are pure")
    assert not found, _report(found)


def test_core_does_not_read_the_reports() -> None:
    """Reports are computed from the core's records; the core never depends on them."""
    core = [n for n in MODULES if _within(n, ["queue_board.core", "queue_board.forecast"])]
    found = _violations(core, lambda module: _within(module, ["queue_board.reports"]), "core/ does not import reports/")
    assert not found, _report(found)


def test_simulations_use_the_core_only() -> None:
    """The simulator plays against the core, not against the server or the evaluation."""
    sims = [n for n in MODULES if _within(n, ["simulations"])]

    def forbidden(module: str) -> bool:
        return _within(module, SHELL) or _is_framework(module, frozenset({"flask", "sqlalchemy"}))

    found = _violations(sims, forbidden, "simulations/ use the core only")
    assert not found, _report(found)


def test_matplotlib_only_in_evaluation() -> None:
    """Plots are offline tools; the server never loads matplotlib."""
    outside = [n for n in MODULES if not _within(n, ["queue_board.evaluation"])]
    found = _violations(
        outside, lambda m: _is_framework(m, frozenset({"matplotlib"})), "matplotlib only in evaluation/"
    )
    assert not found, _report(found)


def test_service_is_framework_free() -> None:
    """The service is the shell, but the web layer adapts it to Flask, not the other way round."""
    service = [n for n in MODULES if _within(n, ["queue_board.service"])]

    def forbidden(module: str) -> bool:
        return _is_framework(module, frozenset({"flask", "werkzeug"})) or _within(module, ["queue_board.web"])

    found = _violations(service, forbidden, "service/ never imports Flask or web/")
    assert not found, _report(found)


# ---------------------------------------------------------------- cycles


Edge = tuple[str, str]


def import_graph(modules: dict[str, Module]) -> dict[str, dict[str, list[Import]]]:
    """module → imported module of the package → the imports that make the edge (run-time ones only)."""
    graph: dict[str, dict[str, list[Import]]] = {name: {} for name in modules}
    for name, module in modules.items():
        for imp in module.imports:
            if imp.type_checking or imp.module == name or imp.module not in modules:
                continue
            graph[name].setdefault(imp.module, []).append(imp)
    return graph


def strongly_connected(graph: dict[str, dict[str, list[Import]]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(root: str) -> None:
        # iterative, so that a deep import chain cannot hit the recursion limit
        nonlocal counter
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return sorted(out)


def _shortest_path(graph: dict[str, dict[str, list[Import]]], start: str, goal: str, within: set[str]) -> list[str]:
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for child in sorted(graph[node]):
            if child in within and child not in previous:
                previous[child] = node
                queue.append(child)
    path = [goal]
    while (step := previous[path[-1]]) is not None:
        path.append(step)
    return path[::-1]


def cycles_covering(graph: dict[str, dict[str, list[Import]]], component: list[str]) -> list[list[str]]:
    """Simple cycles through every edge of a strongly connected component (each edge in at least one)."""
    members = set(component)
    covered: set[Edge] = set()
    cycles: list[list[str]] = []
    for source in component:
        for target in sorted(graph[source]):
            if target not in members or (source, target) in covered:
                continue
            cycle = [source, *_shortest_path(graph, target, source, members)]
            cycles.append(cycle)
            covered.update(itertools.pairwise(cycle))
    return cycles


def describe_cycle(graph: dict[str, dict[str, list[Import]]], cycle: list[str]) -> str:
    lines = [" → ".join(cycle)]
    for source, target in itertools.pairwise(cycle):
        for imp in graph[source][target]:
            lines.append(f"    {MODULES[source].where}:{imp.line}: {imp.text}")
    return "\n".join(lines)


def test_cycle_finder_reports_each_edge() -> None:
    """The cycle finder on a small graph: a two-cycle and a three-cycle sharing a module, and a tail."""
    dummy = Import("x", 1, "import x", False)
    graph: dict[str, dict[str, list[Import]]] = {
        "a": {"b": [dummy]},
        "b": {"a": [dummy], "c": [dummy]},
        "c": {"d": [dummy]},
        "d": {"b": [dummy], "e": [dummy]},
        "e": {},
    }
    assert strongly_connected(graph) == [["a", "b", "c", "d"]]
    cycles = cycles_covering(graph, ["a", "b", "c", "d"])
    edges = {e for cycle in cycles for e in itertools.pairwise(cycle)}
    assert edges == {("a", "b"), ("b", "a"), ("b", "c"), ("c", "d"), ("d", "b")}


def test_no_import_cycles() -> None:
    """No module of the package imports, directly or not, at module or function level, one that imports it."""
    graph = import_graph(MODULES)
    reports = [
        describe_cycle(graph, cycle)
        for component in strongly_connected(graph)
        for cycle in cycles_covering(graph, component)
    ]
    assert not reports, f"{len(reports)} import cycle(s):\n" + "\n".join(reports)
