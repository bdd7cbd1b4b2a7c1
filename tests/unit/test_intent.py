"""Sentence cues and the message intent."""

from __future__ import annotations

import pytest

from ai.contract import Intent
from ai.offline.intent import decide_intent, message_cues


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
        ("Change of plans, cancel the bacon from today's order please", Intent.ORDER_CHANGE),  # removes one product
        ("Please cancel today's order", Intent.ORDER_CANCEL),
        ("cancela o pedido de ontem por favor", Intent.ORDER_CANCEL),
        # a price question with a quantity is still a question
        ("cuanto me sale si me llevo 10 cartones de modelo? hay descuento?", Intent.QUESTION),
        ("cuánto nos cuesta 5 cajas de corona", Intent.QUESTION),
        ("how much for 20 cases of water", Intent.QUESTION),
        ("quanto fica 10 fardos de água?", Intent.QUESTION),
        ("quanto me sai 10 fardos?", Intent.QUESTION),
        # a charge for more than arrived is a complaint
        ("We were charged for 4 cases of buns but only got 3", Intent.COMPLAINT),
        ("we only received 3 cases of lettuce", Intent.COMPLAINT),
        ("me cobraron 5 cajas de coca y solo llegaron 4", Intent.COMPLAINT),
        ("cobraram 10 fardos e só vieram 8", Intent.COMPLAINT),
        ("La coca de lata que me mandaron venía golpeada, 2 latas reventadas", Intent.COMPLAINT),
        ("the cans came dented", Intent.COMPLAINT),
        ("El chofer me cobró de más: me cobró 4 cartones y solo bajaron 3", Intent.COMPLAINT),
        # an amount of money in a question without an order verb asks a price
        ("Is the boneless chicken still $118 a case?", Intent.QUESTION),
        ("o fardo de coca ainda tá R$ 66?", Intent.QUESTION),
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


@pytest.mark.parametrize(
    "text",
    [
        "ey me llevas 20 garrafones el lunes temprano? gracias",
        "me traes 3 cajas de coca 600?",
        "¿me puedes traer 2 bultos de maseca?",
        "pode me mandar 5 fardos de água amanhã?",
        "você me traz 5 fardos de água?",
    ],
)
def test_a_request_put_as_a_question_is_an_order(text: str) -> None:
    assert message_cues(text)[0].order
    assert intent(text, {0}) == Intent.ORDER


@pytest.mark.parametrize(
    "text",
    [
        "I've only got 2 cases left, send 5 cases of water",  # "only got ... left": running low, not a complaint
        "Only got a minute - send 2 cases of fries",
        "mándame 5 cajas de corona, con el descuento de siempre",  # a discount is not a price question
        "ya me cobraron lo de ayer, ahora mándame 3 cajas de coca 600",  # a charge alone is no complaint
        "já cobraram o boleto, manda 5 fardos de coca 2 litros",
        "you charged us for the last order fine, now send 2 cases of fries",
        "me mandas 5 cajas de corona a $15 la caja?",  # a request that names its price
    ],
)
def test_request_cues_do_not_over_fire(text: str) -> None:
    cues = message_cues(text)
    assert not any(c.complaint or c.price for c in cues)


def test_a_price_sentence_does_not_stop_an_order_sentence() -> None:
    cues = message_cues("mándame 5 cajas de corona. cuánto es en total?")
    assert [(c.order, c.price) for c in cues] == [(True, False), (False, True)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("valeu, chegou tudo. manda um abraço pro pessoal", Intent.OTHER),
        ("gracias! mándales saludos a todos", Intent.OTHER),
        ("thanks, send my regards to the crew", Intent.OTHER),
    ],
)
def test_sending_regards_is_not_an_order(text: str, expected: Intent) -> None:
    assert intent(text) == expected


def test_pasame_and_echame_are_order_verbs() -> None:
    assert message_cues("pásame 3 cartones de tecate")[0].order
    assert message_cues("me echas 2 garrafones")[0].order
    assert not message_cues("qué pasa con el pedido")[0].order  # "pasa" alone is not a request
