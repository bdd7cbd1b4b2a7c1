"""The error root: every exception orderflow raises derives from OrderflowError (procrastinate/exceptions.py).

Subclass only for a failure a caller can act on; map driver errors at the seam (worker.core.repository)
and raise `from exc`. Classes that were ValueError or RuntimeError before keep that base beside this one,
so callers catching the builtin still do. `ai` imports nothing of the project, so its two errors
(ai.analyzer.AnalysisFailed, ai.lexicon.LexiconError) keep builtin bases.
"""

from __future__ import annotations


class OrderflowError(Exception):
    """Root of orderflow's own errors."""


__all__ = ["OrderflowError"]
