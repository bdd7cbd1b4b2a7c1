"""The short reply the customer gets, in their language (es/en/pt).

An order is confirmed with its items and total (catalog prices, catalog currency); an order
that needs review asks about the doubtful lines instead; everything else gets a short
acknowledgement. Pure templates: deterministic and free.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ai.catalog import Catalog
from ai.contract import DeliveryHint, Intent, Line
from ai.lexicon import LANGUAGES, lexicon

CURRENCY_SYMBOLS: dict[str, str] = {"MXN": "$", "USD": "$", "BRL": "R$", "EUR": "€", "COP": "$", "ARS": "$", "CLP": "$"}
SHOW_CODE = frozenset({"MXN", "COP", "ARS", "CLP"})  # "$" alone would be ambiguous: add the code

MAX_QUESTIONS = 3  # ask about at most this many doubtful lines in one reply


def _language(language: str) -> str:
    return language if language in LANGUAGES else "es"


def format_number(value: float, language: str) -> str:
    text = f"{value:g}" if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if _language(language) in {"es", "pt"} and not float(value).is_integer() else text


def format_money(cents: int, currency: str, language: str) -> str:
    """115200 MXN → "$1,152.00 MXN"; BRL → "R$ 1.152,00"; USD → "$1,152.00"."""
    amount = f"{abs(cents) / 100:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    sign = "-" if cents < 0 else ""
    if currency == "BRL":
        amount = amount.replace(",", "_").replace(".", ",").replace("_", ".")
        return f"{sign}{symbol} {amount}"
    if symbol is None:
        return f"{sign}{amount} {currency}"
    return f"{sign}{symbol}{amount}" + (f" {currency}" if currency in SHOW_CODE else "")


def _format_date(iso: str, language: str) -> str:
    day = date.fromisoformat(iso)
    return day.strftime("%m/%d/%Y") if _language(language) == "en" else day.strftime("%d/%m/%Y")


def compose_reply(
    *,
    intent: Intent,
    lines: Sequence[Line],
    delivery: DeliveryHint | None,
    needs_review: bool,
    catalog: Catalog,
    language: str,
    review_confidence: float = 0.75,
) -> str:
    """The reply for an analysis (everything but its `reply` field)."""
    text = lexicon(_language(language))["replies"]
    if intent != Intent.ORDER:
        return text.get(intent.value, text["other"])
    if not lines:
        return text["no_lines"]
    if needs_review:
        questions: list[str] = []
        for line in lines:
            product = catalog.by_sku(line.sku) if line.sku else None
            if product is None:
                questions.append(text["ask_unmatched"].format(text=line.text))
            elif line.confidence < review_confidence:
                quantity = format_number(line.quantity, language)
                questions.append(text["ask_doubt"].format(quantity=quantity, name=product.name, text=line.text))
        return " ".join([text["review"], *questions[:MAX_QUESTIONS]])
    rows: list[str] = [text["confirmed"]]
    total = 0
    for line in lines:
        product = catalog.by_sku(line.sku) if line.sku else None
        if product is None:
            continue
        amount = round(product.price_cents * line.quantity)
        total += amount
        quantity = format_number(line.quantity, language)
        rows.append(f"• {quantity} × {product.name}: {format_money(amount, catalog.currency, language)}")
    rows.append(f"{text['total']}: {format_money(total, catalog.currency, language)}")
    if delivery is not None and delivery.date:
        rows.append(f"{text['delivery']}: {_format_date(delivery.date, language)}")
    return "\n".join(rows)


__all__ = ["compose_reply", "format_money", "format_number"]
