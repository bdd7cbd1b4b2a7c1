"""Names that no given-name list knows, that only grammar marks, or that stand right before a phone.

Examples written for these mechanisms (issue 18 class 7, issue 14 item 7), not taken from an
evaluation set: each mechanism finds its names, and the look-alikes that are goods, shops or
everyday words stay unreported.
"""

from __future__ import annotations

import pytest

from ai.pii.common_words import could_be_a_name, is_common_word
from ai.pii.detector import PiiDetector, get_detector, redact


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return get_detector()


def people(detector: PiiDetector, text: str, language: str) -> list[str]:
    return [f.text_in(text) for f in detector.detect(text, language) if f.category == "PERSON"]


def test_everyday_words_are_known_and_unusual_names_are_not() -> None:
    assert all(is_common_word(w) for w in ("nuevo", "thanks", "todo", "urgente", "cordiales", "whats"))
    assert all(could_be_a_name(w) for w in ("yaretzi", "keanu", "joelma", "zé"))
    assert not could_be_a_name("x") and not could_be_a_name("r2d2")


@pytest.mark.parametrize(
    ("language", "text", "name"),
    [
        # a lower-case name no list knows, after an introduction, then where the writer is from
        ("es", "soy yaretzi de la tienda del centro, me mandas 2 cajas", "yaretzi"),
        ("pt", "aqui é a joelma da padaria, manda 4 fardos", "joelma"),
        ("en", "hey this is um keanu from the taco truck, 3 cases of limes", "keanu"),
        # ... at the end after a sign-off or a dash
        ("pt", "manda 2 caixas de leite. bjs joelma", "joelma"),
        ("en", "3 cs fries and 2 cs wings - keanu", "keanu"),
        ("es", "eso es todo, atte. martha gonzalez", "martha gonzalez"),
        # ... after an honorific typed in lower case
        ("es", "lo recibe la sra yaretzi, gracias", "yaretzi"),
        ("pt", "entrega com a dona joelma amanhã", "joelma"),
        # alone on the last line, under a list
        ("es", "▪️ 3 cajas coca 600\n▪️ 2 fanta 2L\nYaretzi", "Yaretzi"),
        ("en", "- 5 fries\n- 2 ketchup\nkeanu", "keanu"),
        # closing the message after a sentence (a full name, or a known given name)
        ("en", "need 4 bags of limes and 2 of onions. Dana Whitfield", "Dana Whitfield"),
        ("es", "2 cajas de agua ciel. Rocío", "Rocío"),
        ("en", "Purchase order from Omar Haddad\nFRY-38 x 6", "Omar Haddad"),
        # the subject of a past-tense verb
        ("en", "Kevin left the invoice on the counter", "Kevin"),
        ("es", "ayer vino Luis y Marta trajo las cajas", "Marta"),
        ("pt", "o fernando entregou tudo certo", "fernando"),
        # a known given name (nicknames included) that something goes to, or placed at work
        ("en", "please send the statements to Greg from now on", "Greg"),
        ("es", "las facturas dáselas a Memo, él las paga", "Memo"),
        ("en", "and Tommy at your warehouse was super helpful", "Tommy"),
        ("pt", "a Tati do financeiro já pagou o boleto", "Tati"),
        ("pt", "o guto entregou tudo certinho", "guto"),
        # a signature with the shop it writes for
        ("en", "do you have 40 cases of wings? - Laura, Blue Ox Wings", "Laura"),
    ],
)
def test_names_the_mechanisms_find(detector: PiiDetector, language: str, text: str, name: str) -> None:
    assert name in people(detector, text, language)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "soy nuevo cliente, me mandas 3 cajas"),
        ("en", "Thanks, got everything!"),
        ("es", "- 2 fardos arroz\n- 1 caja cloralex\nGracias"),
        ("en", "need 4 cases of fries. Thanks a lot"),
        ("es", "Coca llegó tarde otra vez"),  # one capitalised word, no known given name: a brand
        ("es", "Todo llegó bien, gracias"),
        ("en", "Main Street Mini Mart needs 4 cases"),
        ("es", "2 botellas de don julio blanco y 1 de cuervo"),  # an honorific that opens a brand
        ("es", "abarrotes doña mary, 3 cajas"),
        ("en", "PO from Home Depot\n2 cases of gloves"),
        ("en", "2 cases of ketchup - Heinz Ketchup, Hellmanns Mayo"),
        ("pt", "tel do vigia 16 99173-4420"),  # a lower-case word before a phone: only a known given name
        ("es", "CUALQUIER COSA AL 222 145 6789"),
        ("en", "switch the order to Pepsi now"),  # no given name after "to"
        ("es", "manda 2 cajas al local de enfrente"),  # "al": a nickname that is an everyday word
    ],
)
def test_look_alikes_that_are_no_names(detector: PiiDetector, language: str, text: str) -> None:
    assert people(detector, text, language) == []


def test_a_name_right_before_a_phone_makes_it_a_phone(detector: PiiDetector) -> None:
    text = "cualquier cosa a Lupita 5512345678"
    assert redact(text, detector.detect(text, "es")) == "cualquier cosa a <PERSON> <PHONE_NUMBER>"
    text = "2 cases mayo, if the gate is shut: Yaretzi (312) 555-0147"
    assert redact(text, detector.detect(text, "en")) == "2 cases mayo, if the gate is shut: <PERSON> <PHONE_NUMBER>"
    assert detector.detect("pasar con 5512345678", "es") == []  # a bare number with no name or phone word


def test_a_weak_mechanism_yields_to_the_distributors_own_words(detector: PiiDetector) -> None:
    text = "- 5 cajas coca 600\nJumex"
    assert people(detector, text, "es") == ["Jumex"]
    assert detector.detect(text, "es", not_names={"jumex"}) == []
