"""The final routing of an analysis, whatever analyzer (or model) produced it: its own flags are not trusted.

A model may call a question or a thank-you "order" with lines that match nothing and never set
`needs_review`. Routing reads the lines against the catalog instead: an order none of whose lines is a
catalog product is no order (the message goes to a person, reason NO_MATCHED_LINES), and every line
without a catalog product or under the review confidence sends the order to review (worker/outcome.py
adds those per line).
"""

from __future__ import annotations

from collections.abc import Sequence

from ai.catalog import Catalog
from ai.contract import Line

NO_MATCHED_LINES = "no_matched_lines"


def matches_something(lines: Sequence[Line], catalog: Catalog) -> bool:
    """At least one line names a product of this catalog."""
    return any(line.sku is not None and catalog.by_sku(line.sku) is not None for line in lines)


def is_order(intent_is_order: bool, lines: Sequence[Line], catalog: Catalog) -> bool:
    """An order is one only when it has lines and one of them is a catalog product."""
    return intent_is_order and bool(lines) and matches_something(lines, catalog)


__all__ = ["NO_MATCHED_LINES", "is_order", "matches_something"]
