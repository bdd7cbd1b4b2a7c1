"""ai: the analysis contract, the analyzers (offline and OpenAI), matching, PII and cost.

Only the light, interface-level names are re-exported here; import the heavy modules
(ai.pii.detector, ai.offline.analyzer, ai.openai.analyzer) where they are used.
"""

from __future__ import annotations

from ai.analyzer import AnalysisFailed, AnalysisRequest, AnalysisResult, Analyzer, RecentOrderLine, Usage
from ai.catalog import Catalog, Product, load_catalog_file
from ai.contract import Analysis, DeliveryHint, Intent, Line

__all__ = [
    "Analysis",
    "AnalysisFailed",
    "AnalysisRequest",
    "AnalysisResult",
    "Analyzer",
    "Catalog",
    "DeliveryHint",
    "Intent",
    "Line",
    "Product",
    "RecentOrderLine",
    "Usage",
    "load_catalog_file",
]
