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

CURRENCY_SYMBOLS: dict[str, str] = {"MXN": "$", "USD": "$", "BRL": "R$", "EUR": "€", "COP": "$", "ARS": "$", "CLP": "$"}
SHOW_CODE = frozenset({"MXN", "COP", "ARS", "CLP"})  # "$" alone would be ambiguous: add the code

_TEXT: dict[str, dict[str, str]] = {
    "es": {
        "confirmed": "¡Gracias! Tu pedido:",
        "total": "Total",
        "delivery": "Entrega",
        "review": "¡Gracias! Recibimos tu pedido y lo revisamos antes de confirmarlo.",
        "ask_unmatched": "¿A qué producto te refieres con «{text}»?",
        "ask_doubt": "¿Confirmas {quantity} × {name} («{text}»)?",
        "no_lines": "¡Gracias! ¿Qué productos y cantidades necesitas?",
        "order_change": "Recibimos tu cambio al pedido; lo revisamos y te confirmamos en breve.",
        "order_cancel": "Recibimos tu solicitud de cancelación; te confirmamos en breve.",
        "complaint": "Lamentamos el inconveniente. Ya lo estamos revisando y te contactamos pronto.",
        "question": "¡Gracias por tu mensaje! En breve te respondemos.",
        "other": "¡Gracias por tu mensaje!",
    },
    "en": {
        "confirmed": "Thanks! Your order:",
        "total": "Total",
        "delivery": "Delivery",
        "review": "Thanks! We got your order and are checking it before we confirm.",
        "ask_unmatched": "Which product do you mean by “{text}”?",
        "ask_doubt": "Can you confirm {quantity} × {name} (“{text}”)?",
        "no_lines": "Thanks! Which products and quantities do you need?",
        "order_change": "We got your change to the order; we'll check it and confirm shortly.",
        "order_cancel": "We got your cancellation request; we'll confirm shortly.",
        "complaint": "Sorry about that. We're looking into it and will get back to you soon.",
        "question": "Thanks for your message! We'll get back to you shortly.",
        "other": "Thanks for your message!",
    },
    "pt": {
        "confirmed": "Obrigado! Seu pedido:",
        "total": "Total",
        "delivery": "Entrega",
        "review": "Obrigado! Recebemos seu pedido e vamos conferir antes de confirmar.",
        "ask_unmatched": "Qual produto você quer dizer com “{text}”?",
        "ask_doubt": "Confirma {quantity} × {name} (“{text}”)?",
        "no_lines": "Obrigado! Quais produtos e quantidades você precisa?",
        "order_change": "Recebemos sua alteração do pedido; vamos conferir e já confirmamos.",
        "order_cancel": "Recebemos seu pedido de cancelamento; já confirmamos.",
        "complaint": "Sentimos muito pelo problema. Já estamos verificando e retornamos em breve.",
        "question": "Obrigado pela mensagem! Já respondemos.",
        "other": "Obrigado pela mensagem!",
    },
}
MAX_QUESTIONS = 3  # ask about at most this many doubtful lines in one reply


def _language(language: str) -> str:
    return language if language in _TEXT else "es"


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
    text = _TEXT[_language(language)]
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
