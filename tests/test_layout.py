"""The layout a newcomer maps quickly: small modules, no private names borrowed across modules,
and schema/ translating without querying the ORM itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("service", "schema")
MAX_LINES = 400
# Data, not code: migrations are written once and never edited; the demo site is prose.
EXEMPT = ("service/migrations/", "service/demo_content.py")


def modules() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith(EXEMPT):
                found.append(path)
    return found


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@pytest.mark.parametrize("path", modules(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_module_passes_the_size_limit(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (limit {MAX_LINES}): split it by concern"


def test_no_private_name_is_imported_across_modules():
    borrowed = []
    for path in modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        borrowed.append(f"{path.relative_to(ROOT)}: from {node.module} import {alias.name}")
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                # `content._instance`: a private name reached through another of our modules
                if isinstance(node.value, ast.Name) and node.value.id in _our_module_aliases(tree):
                    borrowed.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert not borrowed, "private names used outside their module:\n" + "\n".join(borrowed)


def _our_module_aliases(tree: ast.Module) -> set[str]:
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in PACKAGES:
            aliases.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    aliases.add(alias.asname or alias.name.split(".")[0])
    return aliases


ORM_CALLS = {"filter", "get", "get_or_none", "all", "create", "exclude", "annotate", "bulk_create", "get_or_create",
             "update_or_create", "select_for_update", "raw", "delete", "save", "fetch_related", "first", "count"}


def test_schema_never_queries_the_orm_itself():
    """schema/ translates: a `models.X.<query>` call or a model's `.delete()`/`.save()` belongs in service/."""
    found = []
    for path in modules():
        if not module_name(path).startswith("schema"):
            continue
        tree = ast.parse(path.read_text())
        ours = _our_module_aliases(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            target, method = node.func.value, node.func.attr
            if method not in ORM_CALLS:
                continue
            # models.Page.filter(...), models.Page.get(...)
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "models":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: models.{target.attr}.{method}()")
            elif method in {"delete", "save", "fetch_related"} and not (isinstance(target, ast.Name) and target.id in ours):
                # row.delete(), not redirects.delete(...) (a service function)
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{method}()")
    assert not found, "ORM calls in schema/ (move them into service/):\n" + "\n".join(found)
