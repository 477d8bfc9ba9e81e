"""shunt/openai/'s layout (docs/architecture.md): Chat Completions (chat/) and the Responses API
(responses/) each build on the shared modules beside them, never on each other, and the shared
modules build on neither, so what both need has one home."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "shunt" / "openai"
APIS = ("chat", "responses")


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            names.add(node.module or "")
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(where: Path) -> list[Path]:
    return sorted(where.glob("*.py"))


@pytest.mark.parametrize("api", APIS)
def test_an_api_never_imports_the_other(api: str) -> None:
    (other,) = (name for name in APIS if name != api)
    modules = _modules(PACKAGE / api)
    assert modules
    for path in modules:
        crossing = {n for n in _imported(path) if n.startswith(f"shunt.openai.{other}")}
        assert not crossing, f"{path.name} imports {crossing}"


def test_the_shared_modules_import_neither_api() -> None:
    modules = _modules(PACKAGE)
    assert len(modules) > 5
    for path in modules:
        apis = {n for n in _imported(path) for api in APIS if n.startswith(f"shunt.openai.{api}")}
        assert not apis, f"{path.name} imports {apis}"
