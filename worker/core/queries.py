"""Named runtime queries, loaded once from worker/sql/queries.sql.

Each query opens with `-- name --` and a one-line description (procrastinate's sql/queries.sql).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_HEADER = re.compile(r"^-- ([a-z_0-9]+) --$", re.M)


@cache
def load(package: str = "worker.sql", filename: str = "queries.sql") -> dict[str, str]:
    text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    parts = _HEADER.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        lines = [line for line in body.strip().splitlines() if not line.startswith("--")]
        queries[name] = "\n".join(lines).strip().rstrip(";")
    return queries


RUNTIME_PACKAGES = ("worker.sql", "webhooks.sql")  # each holds a queries.sql of named runtime queries


@cache
def runtime_queries() -> dict[str, str]:
    merged: dict[str, str] = {}
    for package in RUNTIME_PACKAGES:
        try:
            found = load(package)
        except ModuleNotFoundError:
            continue
        clash = merged.keys() & found.keys()
        if clash:
            raise ValueError(f"query names defined twice: {sorted(clash)}")
        merged.update(found)
    return merged


def query(name: str, *, also: tuple[str, ...] = ()) -> str:
    """The named query: a runtime one, or one of the packages in `also` (a tool's own queries, e.g. the demo's)."""
    found = runtime_queries().get(name)
    for package in also:
        if found is not None:
            break
        found = load(package).get(name)
    if found is None:
        raise KeyError(f"no query named {name!r} in {RUNTIME_PACKAGES + also}")
    return found


__all__ = ["RUNTIME_PACKAGES", "load", "query", "runtime_queries"]
