"""The final routing of an analysis, whatever analyzer (or model) produced it: its own flags are not trusted.

A model may call a question or a thank-you "order" with lines that match nothing and never set
`needs_review`. Routing reads the lines against the catalog and the message's own words instead: an
order none of whose lines is a catalog product is no order (the message goes to a person, reason
NO_MATCHED_LINES) unless the message itself asks for goods with an order verb ("mándame 3 cajas de las
rojitas": an order a person completes, and the learning loop learns from); every line without a catalog
product or under the review confidence sends the order to review (worker/outcome.py adds those per line).
"""

from __future__ import annotations

from collections.abc import Sequence

from ai.catalog import Catalog
from ai.contract import Line

NO_MATCHED_LINES = "no_matched_lines"


def matches_something(lines: Sequence[Line], catalog: Catalog) -> bool:
    """At least one line names a product of this catalog."""
    return any(line.sku is not None and catalog.by_sku(line.sku) is not None for line in lines)


def asks_for_goods(text: str) -> bool:
    """An order verb or an order header in the message ("mándame", "we need", "Pedido:"), read by the
    offline analyzer's cue detector (ai/lexicon intent.toml), not by the model."""
    from ai.offline.intent import message_cues

    return any(cue.order for cue in message_cues(text))


def is_order(intent_is_order: bool, lines: Sequence[Line], catalog: Catalog, text: str) -> bool:
    """An order is one only when it has lines, and one of them is a catalog product or the text orders."""
    if not intent_is_order or not lines:
        return False
    return matches_something(lines, catalog) or asks_for_goods(text)


__all__ = ["NO_MATCHED_LINES", "asks_for_goods", "is_order", "matches_something"]
