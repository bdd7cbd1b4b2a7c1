"""Every exception class of worker and webhooks derives from OrderflowError (STYLE.md section 2).

`ai` imports nothing of the project, so its errors (AnalysisFailed, LexiconError) are outside this rule.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from worker.core.errors import OrderflowError

PACKAGES = ("worker", "webhooks")


def exception_classes(package: str) -> list[type[BaseException]]:
    root = importlib.import_module(package)
    found: list[type[BaseException]] = []
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if info.name.endswith(".__main__"):
            continue  # runs the CLI when imported
        module = importlib.import_module(info.name)
        found += [cls for _, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, BaseException) and cls.__module__ == module.__name__]
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exception_derives_from_the_root(package: str) -> None:
    classes = exception_classes(package)
    assert classes, f"no exception classes found in {package}"
    assert [f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, OrderflowError)] == []


def test_builtin_bases_are_kept_for_callers_that_catch_them() -> None:
    from webhooks.inbound.store import IntakeFileError
    from webhooks.outbound.signing import InvalidSecret
    from worker.db.migrate import MigrationError

    assert issubclass(InvalidSecret, ValueError) and issubclass(IntakeFileError, ValueError)
    assert issubclass(MigrationError, RuntimeError)
