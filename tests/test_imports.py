"""Imports run one way (docs/architecture.md): the front door and the worker program sit above
the shared packages, and neither imports the other. Read from the source with ast, so the rule
holds for every module, imported at run time or not (function-level and TYPE_CHECKING imports
count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The programs: each has a command or a process of its own. Everything else under shunt/ is
# shared code, which the programs build on.
PROGRAMS = ("shunt.frontdoor", "shunt.cli", "shunt.demo", "shunt.bench", "workers")
# Which program may use which other program: the CLI starts the front door (`shunt serve`),
# the demo and the bench, and nothing else crosses between programs.
ALLOWED_BETWEEN_PROGRAMS = {
    "shunt.cli": {"shunt.frontdoor", "shunt.demo", "shunt.bench"},
}
# Pure packages: no event loop, no sockets, no clock, no HTTP client.
PURE = (
    "shunt.routing",
    "shunt.model",
    "shunt.anthropic",
    "shunt.openai",
    "shunt.requestlog.record",
    "shunt.requestlog.schema",
    "shunt.requestlog.report",
)
IMPURE_MODULES = (
    "trio",
    "socket",
    "httpx",
    "time",
    "asyncio",
    "selectors",
    "threading",
    "sqlite3",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(module: str, source: str, *, is_package: bool) -> set[str]:
    """Absolute names a module imports (`from a.b import c` counts a.b and a.b.c)."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


# `python -m shunt` is the command line's entry point.
ENTRY_POINTS = {"shunt.__main__": "shunt.cli"}


def _owner(module: str) -> str | None:
    """The program a module belongs to, or None for shared code."""
    if module in ENTRY_POINTS:
        return ENTRY_POINTS[module]
    return next((p for p in PROGRAMS if module == p or module.startswith(p + ".")), None)


def _sources() -> list[tuple[str, set[str]]]:
    """(module, what it imports) for every module of shunt/ and workers/."""
    paths = sorted([*(ROOT / "shunt").rglob("*.py"), *(ROOT / "workers").rglob("*.py")])
    return [
        (name, _imports(name, path.read_text(), is_package=path.name == "__init__.py"))
        for path in paths
        for name in [_module_name(path)]
    ]


def _violations(sources: list[tuple[str, set[str]]]) -> list[str]:
    found = []
    for module, imports in sources:
        mine = _owner(module)
        for imported in sorted(imports):
            theirs = _owner(imported)
            if theirs is None or theirs == mine:
                continue
            if mine is None:
                found.append(f"{module} (shared) imports {imported} (the {theirs} program)")
            elif theirs not in ALLOWED_BETWEEN_PROGRAMS.get(mine, set()):
                found.append(f"{module} ({mine}) imports {imported} ({theirs})")
    return found


def _impure(sources: list[tuple[str, set[str]]]) -> list[str]:
    return [
        f"{module} imports {imported}"
        for module, imports in sources
        if any(module == p or module.startswith(p + ".") for p in PURE)
        for imported in sorted(imports)
        if imported.split(".")[0] in IMPURE_MODULES
    ]


def test_imports_run_one_way():
    assert _violations(_sources()) == []


def test_pure_packages_do_no_io():
    assert _impure(_sources()) == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "shunt.routing.x",
            "from workers.stream import serve_forward\n",
            "shunt.routing.x (shared)",
        ),
        ("shunt.http.x", "import shunt.frontdoor.pool\n", "shunt.http.x (shared)"),
        (
            "shunt.frontdoor.x",
            "from workers import worker\n",
            "shunt.frontdoor.x (shunt.frontdoor)",
        ),
        ("workers.x", "from shunt.frontdoor.pool import Pool\n", "workers.x (workers)"),
        (
            "shunt.frontdoor.x",
            "from shunt.cli import main\n",
            "shunt.frontdoor.x (shunt.frontdoor)",
        ),
        ("shunt.ipc.x", "from ..frontdoor import link\n", "shunt.ipc.x (shared)"),
    ],
)
def test_a_forbidden_import_is_reported(module, source, expected):
    sources = [(module, _imports(module, source, is_package=False))]
    violations = _violations(sources)
    assert violations
    assert all(violation.startswith(expected) for violation in violations)


def test_io_in_a_pure_package_is_reported():
    sources = [("shunt.model.x", _imports("shunt.model.x", "import trio\n", is_package=False))]
    assert _impure(sources) == ["shunt.model.x imports trio"]


def test_a_database_in_a_pure_module_of_the_request_log_is_reported():
    module = "shunt.requestlog.report"
    sources = [(module, _imports(module, "import sqlite3\n", is_package=False))]
    assert _impure(sources) == [f"{module} imports sqlite3"]
