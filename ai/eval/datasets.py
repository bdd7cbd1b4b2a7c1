"""Where the labelled eval data lives: ai/eval/data in the repo; `ORDERFLOW_EVAL_DIR` overrides it."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def eval_dir() -> Path:
    """The eval catalogs and labelled cases: the override when set, else the copy kept in the repo."""
    override = os.environ.get("ORDERFLOW_EVAL_DIR")
    return Path(override) if override else DATA_DIR


__all__ = ["DATA_DIR", "eval_dir"]
