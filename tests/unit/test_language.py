"""Language detection of short informal messages."""

from __future__ import annotations

import pytest

from ai.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Buenas tardes! me manda 3 cajas de coca 600 y 2 de sprite 600 porfa", "es"),
        ("cuanto cuesta la caja de corona??", "es"),
        ("Necesito 5 rejas de huevo para mañana", "es"),
        ("Hey, can I get 3 cases of chicken breast and 2 cases of wings for Thursday?", "en"),
        ("thanks!!", "en"),
        ("What time does the truck usually come on Mondays?", "en"),
        ("Bom dia! Manda 5 fardos de guaraná 2 litros", "pt"),
        ("obrigado, chegou tudo certinho", "pt"),
        ("Qual o prazo de entrega pra Campinas?", "pt"),
        ("café pilão x2\nleite x5\nmargarina x1", "pt"),
    ],
)
def test_detects(text: str, expected: str) -> None:
    assert detect_language(text, default="es") == expected


@pytest.mark.parametrize("default", ["es", "en", "pt"])
def test_default_when_the_text_does_not_say(default: str) -> None:
    assert detect_language("coca 600 x 5", default=default) == default
    assert detect_language("", default=default) == default
    assert detect_language("👍", default=default) == default


def test_unknown_default_falls_back_to_spanish() -> None:
    assert detect_language("123", default="fr") == "es"
