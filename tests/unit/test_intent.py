"""Sentence cues and the message intent."""

from __future__ import annotations

import pytest

from ai.contract import Intent
from ai.intent import decide_intent, message_cues


def intent(text: str, order_sentences: set[int] | None = None) -> Intent:
    cues = message_cues(text)
    return decide_intent(cues, order_sentences if order_sentences is not None else set())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cuanto cuesta la caja de corona??", Intent.QUESTION),
        ("Qual o prazo de entrega pra Campinas?", Intent.QUESTION),
        ("What time does the truck usually come on Mondays?", Intent.QUESTION),
        ("El pedido de ayer llegó incompleto, faltaron 2 cajas de leche lala", Intent.COMPLAINT),
        ("The last delivery of eggs had 3 broken flats. Can you credit us?", Intent.COMPLAINT),
        ("O pedido veio faltando 2 fardos de água", Intent.COMPLAINT),
        ("Change of plans, cancel the bacon from today's order please", Intent.ORDER_CANCEL),
        ("cancela o pedido de ontem por favor", Intent.ORDER_CANCEL),
        ("thanks!!", Intent.OTHER),
        ("Gracias, ya llegó el pedido 👍", Intent.OTHER),
    ],
)
def test_messages_without_order_lines(text: str, expected: Intent) -> None:
    assert intent(text) == expected


def test_order_lines_make_an_order() -> None:
    assert intent("10 garrafones", {0}) == Intent.ORDER
    assert intent("Hey, can I get 3 cases of wings for Thursday?", {0}) == Intent.ORDER


def test_a_complaint_wins_over_its_own_lines() -> None:
    assert intent("faltaron 2 cajas de leche lala", {0}) == Intent.COMPLAINT


def test_a_separate_order_sentence_wins_over_a_complaint() -> None:
    text = "Faltaron 2 cajas de leche. Mándame también 3 cajas de coca"
    assert intent(text, {1}) == Intent.ORDER


def test_change_cue_makes_an_order_change() -> None:
    assert intent("cambia las 3 cajas de coca por sprite", {0}) == Intent.ORDER_CHANGE


def test_repeat_order() -> None:
    assert intent("lo mismo de la semana pasada porfa") == Intent.ORDER
    assert intent("Can I get the usual?") == Intent.ORDER


def test_cues_per_sentence() -> None:
    cues = message_cues("¿Tienen coca de 600? Mándame 3 cajas")
    assert [(c.question, c.order, c.orderable) for c in cues] == [(True, False, False), (False, True, True)]
    [price] = message_cues("how much for 3 cases of wings?")
    assert price.price and not price.orderable
    [request] = message_cues("me puedes mandar 5 cajas de coca?")
    assert request.question and request.order and request.orderable
