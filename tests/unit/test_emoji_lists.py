"""Emoji lists: keycap digits count ("3️⃣"), and a count after a size reads as the count ("coca 600 ➡️ 3️⃣")."""

from __future__ import annotations

from datetime import UTC, datetime

from ai.analyzer import AnalysisRequest
from ai.catalog import Catalog, Product
from ai.offline.analyzer import OfflineAnalyzer
from ai.text import fold


def test_fold_turns_marks_alone_into_spaces() -> None:
    text = "🍊 jugo ➡️ 4️⃣ · pão"
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded.split() == ["🍊", "jugo", "➡", "4", "·", "pao"]


def test_an_emoji_list_with_sizes() -> None:
    catalog = Catalog(distributor="t", locale="es-MX", products=(
        Product(sku="JUG-1L", name="Jugo de naranja 1 L (caja 12)", aliases=("jugo 1 litro", "jugo de litro"),
                unit="caja", pack_size=12, price_cents=1),
        Product(sku="AGU-600", name="Agua natural 600 ml (paquete 24)", aliases=("agua 600",), unit="paquete",
                pack_size=24, price_cents=1),
    ))
    analysis = OfflineAnalyzer().analyze_text(AnalysisRequest(
        text="🧃 jugo 1 litro ➡️ 4️⃣\n💧 agua 600 ➡️ 2️⃣", catalog=catalog, now=datetime(2026, 11, 2, tzinfo=UTC)))
    assert [(line.sku, line.quantity) for line in analysis.lines] == [("JUG-1L", 4.0), ("AGU-600", 2.0)]


def test_a_size_said_in_words() -> None:
    from ai.offline.lines import parse_lines

    [line] = parse_lines("tres cajas de pepsi de seiscientos", "es")
    assert (line.quantity, line.phrase) == (3.0, "pepsi de 600")
    [line] = parse_lines("duas caixas de copo de duzentos", "pt")
    assert (line.quantity, line.phrase) == (2.0, "copo de 200")
