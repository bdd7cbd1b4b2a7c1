"""Imports only point downward (STYLE.md section 7), read from the source with ast, not by importing it.

`ai` imports nothing of the project beyond `ai`; `webhooks` imports `worker.core` and nothing else of
`worker`; `worker.core` imports nothing of the project beyond itself; `worker.admin` holds services, no
Typer. The CLI (`worker.cli`) is the composition root and may import everything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("worker", "ai", "webhooks")

# package -> the project packages it may import (prefixes; itself always)
ALLOWED = {
    "ai": ("ai",),
    "webhooks": ("webhooks", "worker.core"),
    "worker.core": ("worker.core",),
    "worker.admin": ("worker.admin", "worker.core", "worker.db", "ai", "webhooks"),
}
NO_TYPER = ("worker.admin", "worker.core", "worker.db", "ai", "webhooks")


def modules(package: str) -> Iterator[tuple[str, Path]]:
    folder = ROOT.joinpath(*package.split("."))
    for path in sorted(folder.rglob("*.py")):
        yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def imports(source: str) -> Iterator[tuple[int, str]]:
    """(line, module) of every absolute import in the source."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_what_it_stands_on(package: str) -> None:
    upward = [f"{module}:{line} imports {name}" for module, path in modules(package) for line, name in imports(path.read_text(encoding="utf-8"))
              if within(name, PROJECT) and not within(name, ALLOWED[package])]
    assert upward == []


@pytest.mark.parametrize("package", NO_TYPER)
def test_typer_stays_in_the_cli(package: str) -> None:
    found = [f"{module}:{line}" for module, path in modules(package) for line, name in imports(path.read_text(encoding="utf-8"))
             if within(name, ("typer",))]
    assert found == []


def test_an_upward_import_is_seen() -> None:
    source = "from worker.loop import Worker\nimport worker.pipeline\nfrom worker.core import logs\nimport httpx\n"
    names = [name for _, name in imports(source)]
    assert [n for n in names if within(n, PROJECT) and not within(n, ALLOWED["webhooks"])] == ["worker.loop", "worker.pipeline"]
