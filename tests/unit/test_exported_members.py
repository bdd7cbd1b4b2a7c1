"""The packages' public names are pinned (httpx tests/test_exported_members.py)."""

from __future__ import annotations

import importlib

import pytest

EXPECTED = {
    "ai": ["Analysis", "AnalysisFailed", "AnalysisRequest", "AnalysisResult", "Analyzer", "Catalog", "DeliveryHint",
           "Intent", "Line", "Product", "RecentOrderLine", "Usage", "load_catalog_file"],
    "webhooks": ["BlockedAddress", "GuardedTransport", "SignatureError", "generate_secret", "sign",
                 "signature_headers", "verify"],
    "worker": ["DatabaseUnavailable", "LeaseLost", "OrderflowError", "Repository", "Settings", "load_settings"],
}


@pytest.mark.parametrize("package", sorted(EXPECTED))
def test_all_is_pinned_and_importable(package: str) -> None:
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(EXPECTED[package])
    for name in module.__all__:
        assert getattr(module, name) is not None
