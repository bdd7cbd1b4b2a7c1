"""Counts written as keycap emoji ("6️⃣ packs", "🔟 sacos") are counts."""

from __future__ import annotations

from ai.offline.lines import parse_lines


def test_keycap_counts_are_counts() -> None:
    text = "🍺 skol ➡️ 6️⃣ packs\n🧊 gelo ➡️ 🔟 sacos\n🔟 caixas de leite"
    assert [(line.quantity, line.unit) for line in parse_lines(text, "pt")] == [
        (6.0, "pack"), (10.0, "saco"), (10.0, "caixa")]
