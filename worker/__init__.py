"""worker: claims messages and runs the pipeline; the CLI; the database tooling (worker.db)."""

from __future__ import annotations

from worker.core.errors import OrderflowError
from worker.core.repository import DatabaseUnavailable, LeaseLost, Repository
from worker.core.settings import Settings, load_settings

__all__ = ["DatabaseUnavailable", "LeaseLost", "OrderflowError", "Repository", "Settings", "load_settings"]
