"""The shape of the code: every module imports alone, and imports point one way.

`service/` is the domain and runtime and knows nothing of GraphQL; `schema/` is the
GraphQL translation and depends on `service/`. `service/app.py` is the one module
that joins the two (it builds the view from `schema`), so no import, top-level or
inside a function, may lead from `schema` back into `service` and round again.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("service", "schema")
JOINT = "service.app"  # the one module under service/ that may import schema, strawberry or graphql
GRAPHQL_LIBRARIES = ("schema", "strawberry", "graphql")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement in a module, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.append((base, node.lineno))
            # `from schema import guard` imports the module schema.guard
            found.extend((f"{base}.{alias.name}", node.lineno) for alias in node.names if f"{base}.{alias.name}" in MODULES)
    return found


@cache
def _graph() -> dict[str, dict[str, int]]:
    """Module -> {project module it imports (its packages included): line} for service and schema."""
    graph: dict[str, dict[str, int]] = {}
    for name, path in MODULES.items():
        edges: dict[str, int] = {}
        parent = name.rpartition(".")[0]
        if parent:
            edges[parent] = 0  # importing a module runs its package's __init__ first
        for target, line in _imports(name, path):
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.setdefault(target, line)
                ancestor = target.rpartition(".")[0]
                while ancestor:
                    edges.setdefault(ancestor, line)
                    ancestor = ancestor.rpartition(".")[0]
        graph[name] = edges
    return graph


# -- each module imports alone ---------------------------------------------------------------

_IMPORT_EACH = """
import importlib, json, sys, traceback
names = json.loads(sys.argv[1])  # sorted: a package before the modules inside it
results, loaded_by = {}, {}
for name in names:
    # `import a.b.c` alone runs a/__init__, then a.b's, then a.b.c. Where importing an ancestor
    # alone already loaded this module, importing it alone ran exactly that: the ancestor's
    # result is its result (importing schema builds the whole schema: about 0.5 s a module).
    ancestors = [name.rsplit(".", n)[0] for n in range(name.count("."), 0, -1)]
    if any(name in loaded_by.get(ancestor, ()) for ancestor in ancestors):
        continue
    for loaded in [m for m in sys.modules if m.split(".")[0] in ("service", "schema")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except BaseException:
        results[name] = traceback.format_exc()
    loaded_by[name] = {m for m in sys.modules if m.split(".")[0] in ("service", "schema")}
print(json.dumps(results))
"""


def test_every_module_imports_alone():
    """Each module imported alone, project modules cleared in between (one interpreter: libraries stay loaded).

    One test, not one per module: under xdist a module-scoped fixture ran the whole pass
    again on each worker that took a share of the parameters."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    done = subprocess.run([sys.executable, "-c", _IMPORT_EACH, json.dumps(sorted(MODULES))], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    failures = json.loads(done.stdout.strip().splitlines()[-1])
    assert not failures, "\n".join(f"`import {name}` in a fresh interpreter fails:\n{trace}" for name, trace in failures.items())


# -- imports point one way -------------------------------------------------------------------

@pytest.mark.parametrize("module", sorted(name for name in MODULES if name.split(".")[0] == "service"))
def test_service_knows_nothing_of_graphql(module):
    if module == JOINT:
        return
    wrong = [f"{MODULES[module].relative_to(ROOT)}:{line} imports {target}"
             for target, line in _imports(module, MODULES[module]) if target.split(".")[0] in GRAPHQL_LIBRARIES]
    assert not wrong, f"only {JOINT} may import schema, strawberry or graphql:\n" + "\n".join(wrong)


@pytest.mark.parametrize("module", sorted(name for name in MODULES if name.split(".")[0] == "schema"))
def test_schema_does_not_reach_the_app(module):
    wrong = [f"{MODULES[module].relative_to(ROOT)}:{line} imports {target}"
             for target, line in _imports(module, MODULES[module])
             if target in ("service.app", "service.cli") or target.startswith(("service.app.", "service.cli."))]
    assert not wrong, "schema/ is imported by service.app, never the other way:\n" + "\n".join(wrong)


def _path(graph: dict[str, dict[str, int]], start: str, goal, members: set[str]) -> list[str]:
    """A shortest import path from `start` to a module `goal` accepts, through `members` only."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        current = queue.pop(0)
        for target in sorted(graph[current]):
            if target in members and goal(target):
                return [*paths[current], target]
            if target in members and target not in paths:
                paths[target] = [*paths[current], target]
                queue.append(target)
    return [start]


def _strongly_connected(graph: dict[str, dict[str, int]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            advanced = False
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    advanced = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def test_no_import_cycle_between_service_and_schema():
    graph = _graph()
    cycles = []
    for component in _strongly_connected(graph):
        if {name.split(".")[0] for name in component} >= set(PACKAGES):
            start = min(name for name in component if name.split(".")[0] == "service")
            there = _path(graph, start, lambda name: name.split(".")[0] == "schema", component)
            path = [*there, *_path(graph, there[-1], lambda name: name == start, component)[1:]]
            steps = [f"{a} -> {b}" + (f" (line {graph[a][b]})" if graph[a][b] else " (its package)")
                     for a, b in zip(path, path[1:])]
            cycles.append("\n  ".join(steps))
    assert not cycles, "imports go round between service/ and schema/:\n  " + "\n\n  ".join(cycles)
