"""The layout a newcomer maps quickly: small modules, no private names borrowed across modules,
and schema/ translating without querying the ORM itself."""

from __future__ import annotations

import ast
import re
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


README = ROOT / "README.md"
CODE = re.compile(r"^[A-Z][A-Z_]{3,}$")


def _codes_in_code() -> dict[str, str]:
    """Every error code the code can answer: the ErrorCode enum, and each literal given as a
    `code` (a dict value under "code", `extensions["code"] = ...`, a `code` argument)."""
    from service.errors import ErrorCode

    found = {code.value: "service/errors.py" for code in ErrorCode}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            literals = []
            if isinstance(node, ast.Dict):
                literals += [v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant) and k.value == "code"]
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
                key = node.targets[0].slice
                if isinstance(key, ast.Constant) and key.value == "code":
                    literals.append(node.value)
            elif isinstance(node, ast.Call):
                literals += [kw.value for kw in node.keywords if kw.arg == "code"]
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in {"_error", "coded"} and len(node.args) > 1:
                    literals.append(node.args[1])
            for literal in literals:
                if isinstance(literal, ast.Constant) and isinstance(literal.value, str) and CODE.match(literal.value):
                    found.setdefault(literal.value, path.relative_to(ROOT).as_posix())
    return found


def test_every_error_code_is_listed_in_the_readme():
    section = README.read_text().split("### Errors, codes and permissions", 1)[1].split("\n### ", 1)[0]
    listed = set(re.findall(r"`([A-Z][A-Z_]{3,})`", section))
    codes = _codes_in_code()
    assert len(codes) > 20, codes  # the scan found the codes (the enum alone has 17)
    missing = {code: where for code, where in codes.items() if code not in listed and not code.startswith("INVALID_")}
    assert not missing, f"error codes the README's table does not list: {missing}"


def test_write_transactions_go_through_db_serialised():
    """On SQLite a deferred transaction that read before another process's commit fails with
    "database is locked"; db.serialised takes the write lock first. One door for every write."""
    # tortoise's; not a client's own _in_transaction hook, nor sqlite3's `connection.in_transaction` flag
    opener = re.compile(r"(?<!\.)\bin_transaction\b")
    found = [f"{path.relative_to(ROOT)}" for path in modules()
             if module_name(path) != "service.db" and opener.search(path.read_text())]
    assert not found, f"transactions opened around db.serialised: {found}"
