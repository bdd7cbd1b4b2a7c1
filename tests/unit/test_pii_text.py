"""Person names and street addresses: the cue-based recognizers."""

from __future__ import annotations

import pytest

from ai.pii import PiiDetector, get_detector
from ai.pii_names import is_list_bullet, trim_name


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return get_detector()


def found(detector: PiiDetector, text: str, language: str) -> list[tuple[str, str]]:
    return [(f.category, f.text_in(text)) for f in detector.detect(text, language)]


@pytest.mark.parametrize(
    ("language", "text", "name"),
    [
        ("es", "Hola, soy Carmen Ruiz de la tienda La Esperanza. Necesito 5 rejas", "Carmen Ruiz"),
        ("es", "me llamo Lupita Hernández, les escribo de Abarrotes Lupita", "Lupita Hernández"),
        ("es", "Mi nombre es José Luis Pérez", "José Luis Pérez"),
        ("es", "Soy la señora Martínez", "Martínez"),
        ("es", "Facturar a nombre de Roberto Gómez Bolaños", "Roberto Gómez Bolaños"),
        ("es", "Ya les deposité. Saludos, María Fernanda", "María Fernanda"),
        ("es", "Saludos\nJuan Pérez", "Juan Pérez"),
        ("es", "Att. Lic. Roberto Gómez", "Roberto Gómez"),
        ("es", "Hola Pedro, me mandas 3 cajas", "Pedro"),
        ("pt", "Oi, aqui é o João Pereira do Bar do Zé. Quero 2 fardos", "João Pereira"),
        ("pt", "Boa tarde, meu nome é Ana Souza, do Mercadinho Bom Preço", "Ana Souza"),
        ("pt", "oi, aqui é a Fernanda da padaria", "Fernanda"),
        ("pt", "Qualquer coisa liga. Abraço, Carlos", "Carlos"),
        ("pt", "Rua das Flores? falar com o seu João", "João"),
        ("en", "call me if there's a problem - Mike Johnson", "Mike Johnson"),
        ("en", "Hi this is Sarah from Blue Door Cafe, we'd like 10 cases", "Sarah"),
        ("en", "My name is Tom Becker, manager at Lakeview Grill", "Tom Becker"),
        ("en", "this is Jennifer O'Brien from Hilltop Deli", "Jennifer O'Brien"),
        ("en", "Ask for Mr. Kim at the back door", "Kim"),
        ("en", "2 cases of wings\n- Mike 👍", "Mike"),
        ("en", "Hey it's Mike from Rosie's, 3 cases", "Mike"),
        ("en", "Best regards, John Smith", "John Smith"),
        ("es", "Saludos cordiales,\nAna López", "Ana López"),
        ("pt", "Aqui é a Dona Maria do mercadinho", "Maria"),
        ("en", "2 cases boneless chicken please, thx - Dana, 555-867-5309", "Dana"),  # a signature with a phone
        ("es", "3 cajas de coca. Saludos, Martha López 55 1234 5678", "Martha López"),
    ],
)
def test_names_after_a_cue(detector: PiiDetector, language: str, text: str, name: str) -> None:
    assert ("PERSON", name) in found(detector, text, language)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "hola soy cliente nuevo, quiero 3 cajas"),
        ("es", "soy carmen ruiz"),  # lower-case names are a known miss: nothing tells them apart
        ("es", "Gracias, Saludos"),
        ("en", "This is Monday's order: 3 cases; this is urgent. It's Friday"),
        ("en", "Hey Team, need 2 cases of Frank's RedHot"),
        ("pt", "Tienen Doña Maria mole? biscoito Maria x3"),
    ],
)
def test_no_name_without_a_capitalised_name_after_a_cue(detector: PiiDetector, language: str, text: str) -> None:
    assert [c for c, _ in found(detector, text, language) if c == "PERSON"] == []


def test_trim_name_cuts_at_common_words_and_drops_shop_names() -> None:
    text = "Carmen Ruiz Gracias"
    assert trim_name(text, 0, len(text)) == (0, len("Carmen Ruiz"))
    assert trim_name("Blue Door Cafe", 0, 14) is None
    text = "João Pereira do Bar"
    assert trim_name(text, 0, len(text)) == (0, len("João Pereira"))
    assert trim_name("Rosie's", 0, 5) is None


def test_dash_after_a_list_is_a_bullet_not_a_signature() -> None:
    listing = "Order:\n- Heinz Ketchup\n- Hellmanns Mayo"
    assert is_list_bullet(listing, listing.rindex("-"))
    signed = "2 cases of fries\n- Mike"
    assert not is_list_bullet(signed, signed.rindex("-"))
    inline = "call me - Mike"
    assert not is_list_bullet(inline, inline.rindex("-"))


@pytest.mark.parametrize(
    ("language", "text", "address"),
    [
        ("es", "Entregar en Av. Insurgentes Sur 1234, Col. Del Valle", "Av. Insurgentes Sur 1234, Col. Del Valle"),
        ("es", "Entregar en Calle 5 de Mayo #23, Col. Centro, C.P. 44100 por favor",
         "Calle 5 de Mayo #23, Col. Centro, C.P. 44100"),
        ("es", "calle Hidalgo 120 int 3, col. Juárez, CP 06600", "calle Hidalgo 120 int 3, col. Juárez, CP 06600"),
        ("es", "entregar en Insurgentes Sur 1234, Del Valle", "Insurgentes Sur 1234, Del Valle"),
        ("es", "Dirección: Morelos 45, Centro. Gracias", "Morelos 45, Centro"),
        ("pt", "20 sacos de gelo, entregar na Rua Augusta 1500, São Paulo", "Rua Augusta 1500, São Paulo"),
        ("pt", "Entrega na Av. Paulista, 1578 - Bela Vista, São Paulo - SP, CEP 01310-200",
         "Av. Paulista, 1578 - Bela Vista, São Paulo - SP, CEP 01310-200"),
        ("pt", "Rua das Flores, 123 - apto 45, Curitiba - PR", "Rua das Flores, 123 - apto 45, Curitiba - PR"),
        ("pt", "Rua Augusta 1500, Manda 2 caixas", "Rua Augusta 1500"),  # the tail stops at "Manda"
        ("en", "Deliver to 1458 W Fulton St, Chicago, IL 60607. We need 1 case",
         "1458 W Fulton St, Chicago, IL 60607"),
        ("en", "Ship to 220 N Michigan Ave Suite 400, Chicago, IL 60601 - need 2 cases",
         "220 N Michigan Ave Suite 400, Chicago, IL 60601"),
        ("en", "Address: 742 Evergreen Terrace, Springfield", "742 Evergreen Terrace, Springfield"),
        ("en", "Our address is 455 Elm Street, Evanston IL 60201", "455 Elm Street, Evanston IL 60201"),
        ("en", "Deliver to 125 E. 5th Ave, Unit 2", "125 E. 5th Ave, Unit 2"),
        ("pt", "Endereço: Rua XV de Novembro, 200, Centro, Curitiba", "Rua XV de Novembro, 200, Centro, Curitiba"),
    ],
)
def test_addresses(detector: PiiDetector, language: str, text: str, address: str) -> None:
    assert ("ADDRESS", address) in found(detector, text, language)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "Calle 10 cajas de leche; Av. 3 cajas"),
        ("es", "Entregar en la bodega 3 de la central de abasto, pasillo 5"),
        ("en", "Deliver to the back door, 2 cases of Dr Pepper 12 oz; Route 66 burgers x 4"),
        ("pt", "entrega na Padaria Central, rua de trás; Rua 3 caixas"),
    ],
)
def test_no_address_in_delivery_chatter(detector: PiiDetector, language: str, text: str) -> None:
    assert found(detector, text, language) == []
