"""Staff review of order lines: correct the product or quantity, or confirm, and learn from it.

Each correction runs `correct_order_line` (one transaction): the line and the order total
change, the order leaves review when no line needs one, the review becomes ai_training_data, and
the line's product words become a learned alias of the product, for the distributor and for the
customer. The alias is computed here with the matcher's own normalisation (the line parser's
product phrase, folded, without counts, pack words or stopwords), so the next message that
names the product the same way matches it exactly. The worker's ContextCache notices the new
alias through the `learned_aliases_version` key and rebuilds the distributor's matcher.

These calls act as the service (the line id tells the distributor) through the review RPCs staff
call themselves under RLS (review_correct_line_v1, review_confirm_order_v1: migration
20261205131000_staff_review.sql), so both leave the same audit rows and webhook events.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ai.matching.matcher import normalise
from ai.offline.lines import parse_lines
from ai.offline.pack_units import CONTAINER, PACK_WORDS
from ai.offline.quantities import strip_quantity
from ai.text import STOPWORDS, fold, raw_tokens
from worker.admin.errors import AdminError
from worker.core.repository import Refused, Repository, dumps

REPEAT_EVIDENCE = "repeat "  # match_method of lines copied from the last order: they name no product
STAFF_ADDED = "staff"  # match_method of lines staff added (review_add_line_v1): their text is the catalog name
CLOSED_STATUSES = frozenset({"cancelled", "fulfilled"})
LANGUAGES = frozenset({"es", "pt", "en"})

log = logging.getLogger("orderflow.corrections")


class CorrectionError(AdminError):
    """The correction cannot be made: unknown line, order or SKU, a closed order, nothing to do."""


@dataclass(frozen=True, kw_only=True)
class Correction:
    order_id: str
    order_status: str  # after the correction: "created" once no line needs review
    line_no: int
    correction_type: str  # "product" | "quantity" | "confirmed"
    sku: str
    quantity: float
    alias: str | None  # what was learned (None: nothing)


def learned_alias(customer_text: str, language: str = "es") -> str:
    """The alias a line teaches: its product words as the matcher reads them ("" when none).

    "3 cajas de las rojitas" → "rojitas"; "2 de sprite 600" → "sprite 600".
    """
    parsed = parse_lines(customer_text, language if language in LANGUAGES else "es")
    phrase = parsed[0].phrase if len(parsed) == 1 and parsed[0].phrase.strip() else strip_quantity(customer_text)
    words = [
        word for word in raw_tokens(fold(phrase))
        if word not in STOPWORDS and (len(word) > 1 or word.isdigit())
        and PACK_WORDS.get(word, ("", ""))[1] != CONTAINER
    ]
    alias = " ".join(words)
    return alias if alias_key(alias) else ""


def alias_key(alias: str) -> tuple[str, ...]:
    """The matcher's exact-match key of an alias (stemmed words without container pack words)."""
    return tuple(sorted(token.text for token in normalise(alias) if not token.container))


def effective_aliases(rows: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, str], ...]:
    """(alias, sku) pairs for Catalog.learned_aliases from rows oldest change first: when two
    aliases read the same to the matcher, the newer wins (two would tie as ambiguous)."""
    latest: dict[tuple[str, ...], tuple[str, str]] = {}
    for row in rows:
        key = alias_key(row["alias"])
        if key:
            latest.pop(key, None)
            latest[key] = (row["alias"], row["sku"])
    return tuple(latest.values())


def _alias_for(line: Mapping[str, Any]) -> str:
    """What a line teaches ('' for a line copied from the last order or added by staff: neither is the
    customer's words)."""
    if (line["match_method"] or "").startswith(REPEAT_EVIDENCE) or line["match_method"] == STAFF_ADDED:
        return ""
    return learned_alias(line["customer_text"], line["language"] or "es")


def _check_id(value: str, what: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError:
        raise CorrectionError(f"not an {what} id: {value!r}") from None


async def correct_line(
    repo: Repository,
    *,
    order_product_id: str,
    product_sku: str | None = None,
    quantity: float | None = None,
    confirm: bool = False,
) -> Correction:
    """Set the line's product (by SKU) and/or quantity, or confirm it as it is."""
    _check_id(order_product_id, "order line")
    line = await repo.fetch_one("correction_line", order_product_id=order_product_id)
    if line is None:
        raise CorrectionError(f"no order line {order_product_id}")
    if line["order_status"] in CLOSED_STATUSES:
        raise CorrectionError(f"order {line['order_id']} is {line['order_status']}: its lines can no longer change")
    product_id: str | None = None
    if product_sku is not None:
        product = await repo.fetch_one("product_by_sku", distributor_id=line["distributor_id"], sku=product_sku)
        if product is None or not product["active"]:
            raise CorrectionError(f"no active product {product_sku!r} in this distributor's catalog")
        product_id = product["id"]
    if quantity is not None and quantity <= 0:
        raise CorrectionError(f"quantity must be positive, got {quantity}")
    if product_id is None and line["product_id"] is None:
        raise CorrectionError(f"line {line['line_no']} has no product: give its SKU")
    changes = (product_id is not None and product_id != line["product_id"]) or (
        quantity is not None and float(quantity) != float(line["quantity"]))
    if not changes and not confirm:
        raise CorrectionError(f"nothing to correct on line {line['line_no']}: give another SKU or quantity, or confirm")
    alias = _alias_for(line)
    try:
        row = await repo.fetch_one("ops_review_correct_line", line_id=order_product_id, product_id=product_id,
                                   quantity=quantity, confirm=confirm, alias=alias)
    except Refused as exc:  # the line went away or the order closed between the two reads
        raise CorrectionError(str(exc)) from exc
    assert row is not None
    result = row["result"]
    done = Correction(order_id=str(result["order_id"]), order_status=str(result["order_status"]),
                      line_no=int(result["line_no"]), correction_type=str(result["correction_type"]),
                      sku=str(result["sku"]), quantity=float(result["quantity"]), alias=result["alias"])
    log.info("order line reviewed", extra={"action": "order_line_reviewed", "distributor_id": line["distributor_id"],
                                           "order_id": done.order_id, "line_no": done.line_no,
                                           "correction_type": done.correction_type, "order_status": done.order_status,
                                           "learned": done.alias is not None})
    return done


async def confirm_order(repo: Repository, *, order_id: str) -> list[Correction]:
    """Confirm every line of an order as it is (each line becomes a reviewed, correct line) and the
    order itself (status confirmed), through review_confirm_order_v1: the RPC staff call."""
    _check_id(order_id, "order")
    lines = await repo.fetch_all("ops_order_lines_for_review", order_id=order_id)
    if not lines:
        raise CorrectionError(f"no order {order_id} (or it has no lines)")
    if lines[0]["order_status"] in CLOSED_STATUSES:
        raise CorrectionError(f"order {order_id} is {lines[0]['order_status']}: its lines can no longer change")
    missing = [str(line["line_no"]) for line in lines if line["product_id"] is None]
    if missing:
        raise CorrectionError(f"line(s) {', '.join(missing)} have no product: correct them first")
    aliases = {line["id"]: _alias_for(line) for line in lines}
    try:
        row = await repo.fetch_one("ops_review_confirm_order", order_id=order_id, aliases=dumps(aliases))
    except Refused as exc:
        raise CorrectionError(str(exc)) from exc
    assert row is not None
    result = row["result"]
    done = [Correction(order_id=str(result["order_id"]), order_status=str(result["order_status"]),
                       line_no=int(r["line_no"]), correction_type=str(r["correction_type"]), sku=str(r["sku"]),
                       quantity=float(r["quantity"]), alias=r["alias"]) for r in result["lines"]]
    log.info("order confirmed", extra={"action": "order_confirmed", "distributor_id": lines[0]["distributor_id"],
                                       "order_id": order_id, "lines": len(done)})
    return done


__all__ = ["Correction", "CorrectionError", "alias_key", "confirm_order", "correct_line", "effective_aliases",
           "learned_alias"]
